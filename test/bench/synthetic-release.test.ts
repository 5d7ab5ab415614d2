import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { loadSyntheticRelease, writeSyntheticRelease } from '../../src/bench/synthetic-release';

const root = resolve(__dirname, '..', '..');

// Issue 15: the bench's spec went out of step with the schema twice ("spec.image.replication.timeout:
// expected a duration", then the example's spec.traffic naming regions the synthetic spec renamed) and
// the bench crashed in its first section. The synthetic spec is loaded as the CLI loads a spec.
describe('the synthetic release the bench runs', () => {
  it.each([
    [5, 'uniform'],
    [50, 'varied'],
    [500, 'varied'],
  ] as const)('passes the schema the CLI uses, %i regions, traits %s', (regions, traits) => {
    const release = loadSyntheticRelease({ regions, traits });
    expect(release.spec.spec.regions).toHaveLength(regions);
    expect(release.spec.spec.regions.filter((r) => r.canary).map((r) => r.name)).toEqual(['region-0']);
    expect(release.spec.spec.rollout).toMatchObject({ canarySoak: 0, approvals: [], maxParallel: 10 });
    expect(release.spec.spec.traffic).toBeUndefined();
    expect(release.checks?.checks.length).toBeGreaterThan(0);
  });

  it('is a spec `meridian validate` accepts (the built CLI, as `npm test` builds it)', () => {
    const file = writeSyntheticRelease({ regions: 5, traits: 'varied' });
    const run = spawnSync(process.execPath, [join(root, 'bin', 'meridian'), 'validate', '-f', file], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stderr).not.toMatch(/error|problem/i);
    expect(run.status).toBe(0);
  });

  it('varies the traits so the planner has work to do', () => {
    const { spec } = loadSyntheticRelease({ regions: 50, traits: 'varied' });
    const distinct = new Set(spec.spec.regions.map((r) => JSON.stringify(r.traits)));
    expect(distinct.size).toBeGreaterThan(10);
  });
});
