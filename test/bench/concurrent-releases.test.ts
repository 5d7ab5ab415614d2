import { describeConcurrentReleases, measureConcurrentReleases } from '../../src/bench/concurrent-releases';
import { onRigNoopWorker } from '../support/noop-worker-on-rig';

// Quick form of bench section 2 on the rig's dev server: what was measured, never a time bound.
describe('concurrent releases bench (quick form)', () => {
  it('runs 5 releases of 5 regions at once on one no-op worker; every one succeeds', async () => {
    const c = await onRigNoopWorker((world) => measureConcurrentReleases(world, { releases: 5 }));
    expect(c).toMatchObject({ releases: 5, regionsPerRelease: 5, succeeded: 5, failures: [] });
    for (const x of [c.wallMs, c.regionsPerSecond, c.peakRssBytes]) expect(Number.isFinite(x) && x > 0).toBe(true);

    const { text, figures } = describeConcurrentReleases(c);
    expect(text).toMatch(
      /^5 concurrent releases of 5 regions on one worker: 5\/5 succeeded in [\d.]+ s \([\d.]+ regions completed per second\); peak RSS of the worker process \d+ MiB/,
    );
    expect(figures[0]).toMatchObject({ unit: 'releases', value: 5, baseline: { value: 5 }, ratio: 1 });
    for (const f of figures) expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
  });
});
