import { describePlanning, measurePlanning } from '../../src/bench/planning';

// Quick form of bench section 10 (no rig): what was measured, never a time bound. The CLI half runs the
// built CLI, as `npm test` builds it.
describe('planning bench (quick form)', () => {
  it('plans a 50-region release in this process and with `meridian plan`, each figure apart', () => {
    const m = measurePlanning({ regions: 50, rounds: 2 });
    expect(m).toMatchObject({ regions: 50, rounds: 2, placed: 50, cliExitCode: 0 });
    // The canary, single regions bringing new traits, then parallel waves of at most 10.
    expect(m.waves).toBeGreaterThan(5);
    for (const x of [m.firstPlanningMs, m.planningMs, m.planReleaseMs, m.loadMs, m.cliWallMs])
      expect(Number.isFinite(x) && x > 0).toBe(true);

    const { text, figures } = describePlanning(m);
    expect(text).toMatch(
      /^planning a 50-region release \(traits varied, maxParallel 10; \d+ waves\): first planning in a process [\d.]+ ms \([\d.]+x the 100 ms target for 500 regions\), median of 2 later turns [\d.]+ ms .*meridian plan -f, process start to exit, median \d+ ms/,
    );
    expect(figures.map((f) => [f.name, f.unit, f.baseline?.value])).toEqual([
      ['plan, 50 regions: first planning in a process', 'ms', 100],
      ['plan, 50 regions: planning, median of later turns', 'ms', 100],
      ['plan, 50 regions: loading and validating the spec', 'ms', undefined],
      ['plan, 50 regions: meridian plan, process start to exit', 'ms', undefined],
    ]);
  });
});
