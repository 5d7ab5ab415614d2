import { describeOrchestrationOverhead, measureOrchestrationOverhead } from '../../src/bench/orchestration-overhead';
import { onRigNoopWorker } from '../support/noop-worker-on-rig';

// Quick form of bench section 1 on the rig's dev server. Times depend on the machine: this asserts what
// was measured (every region ran, every figure a positive number), never a bound.
describe('orchestration overhead bench (quick form)', () => {
  it('runs a 5-region release of the synthetic spec on a no-op worker and measures each region', async () => {
    const o = await onRigNoopWorker((world) => measureOrchestrationOverhead(world, { regions: 5 }));
    expect(o).toMatchObject({ regions: 5, maxParallel: 10, phase: 'Succeeded', succeeded: 5 });
    expect(o.waves).toBeGreaterThanOrEqual(2); // the canary's wave, then the rest
    expect(o.overheadsMs).toHaveLength(5);
    for (const x of [o.wallMs, o.medianMs, o.p90Ms, ...o.overheadsMs]) expect(Number.isFinite(x) && x > 0).toBe(true);
    expect(o.p90Ms).toBeGreaterThanOrEqual(o.medianMs);

    const { text, figures } = describeOrchestrationOverhead(o);
    expect(text).toMatch(
      /^orchestration overhead, 5 regions, .*5\/5 regions succeeded .*median \d+ ms \([\d.]+x the 100 ms target\), p90 \d+ ms/,
    );
    expect(figures.map((f) => [f.unit, f.baseline?.value])).toEqual([
      ['ms', undefined],
      ['ms', 100],
      ['ms', 200],
    ]);
    for (const f of figures) expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
  });
});
