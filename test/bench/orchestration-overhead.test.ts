import { withNoopWorker } from '../../src/bench/noop-worker';
import { describeOverheadRuns, measureOverheadRuns } from '../../src/bench/orchestration-overhead';
import { withPrivateDevServer } from '../../src/bench/private-dev-server';
import { workflowCode } from '../support/workflow-bundles';

// Quick form of bench section 1, on a dev server of its own as the full section runs. Times depend on
// the machine: this asserts what was measured (every region ran, every figure a positive number, the
// breakdown adds up), never a bound.
describe('orchestration overhead bench (quick form)', () => {
  it('runs a 5-region release, then 2 regions one at a time, on a no-op worker and breaks down each region', async () => {
    const runs = await withPrivateDevServer((temporal) =>
      withNoopWorker(
        temporal,
        (world) => measureOverheadRuns(world, { regions: 5, aloneRegions: 2 }),
        workflowCode('meridian'),
      ),
    );
    const { parallel: o, alone } = runs;
    expect(o).toMatchObject({ regions: 5, maxParallel: 10, phase: 'Succeeded', succeeded: 5 });
    expect(alone).toMatchObject({ regions: 2, maxParallel: 1, phase: 'Succeeded', succeeded: 2, waves: 2 });
    expect(o.waves).toBeGreaterThanOrEqual(2); // the canary's wave, then the rest
    expect(o.overheadsMs).toHaveLength(5);
    for (const x of [o.wallMs, o.medianMs, o.p90Ms, ...o.overheadsMs, runs.workerCpuMsPerRegion])
      expect(Number.isFinite(x) && x > 0).toBe(true);
    expect(o.p90Ms).toBeGreaterThanOrEqual(o.medianMs);
    for (const b of [...o.breakdowns, ...alone.breakdowns]) {
      // Render is a local activity; deploy, rollout and checks go through the task queue.
      expect(b).toMatchObject({ activities: 3, localActivities: 1, workflowTasks: 4 });
      const parts = b.workflowTaskQueueMs + b.workflowTaskRunMs + b.activityQueueMs + b.timerMs + b.otherMs;
      expect(parts).toBeCloseTo(b.orchestrationMs, 3);
    }

    const { text, figures } = describeOverheadRuns(runs);
    expect(text).toMatch(
      /^orchestration overhead, 5 regions, .*5\/5 regions succeeded .*median \d+ ms \([\d.]+x the 100 ms target\), p90 \d+ ms .*workflow tasks queued \d+ ms, workflow tasks on the worker \d+ ms/,
    );
    expect(text).toMatch(/one region at a time \(maxParallel 1, 2 regions\): median \d+ ms/);
    expect(figures.map((f) => [f.unit, f.baseline?.value])).toEqual([
      ['ms', undefined],
      ['ms', 100],
      ['ms', 200],
      ['ms', 100],
      ['ms', 200],
      ['ms', undefined],
    ]);
    for (const f of figures) expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
  });
});
