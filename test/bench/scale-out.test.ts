import { Client, Connection } from '@temporalio/client';
import { withPrivateDevServer } from '../../src/bench/private-dev-server';
import { describeScaleOut, measureScaleOut } from '../../src/bench/scale-out';
import { connectionOptions } from '../../src/temporal/connection-config';
import { workflowCode } from '../support/workflow-bundles';

// Quick form of bench section 12 (worker processes run the build, as `npm test` builds first): what
// was measured, never a time bound or a throughput ratio.
describe('scale-out bench (quick form)', () => {
  it('runs 5 releases on one worker process, then on two sharing the task queue; every release succeeds', async () => {
    const { workflowBundle } = workflowCode('meridian');
    const prebuilt = workflowBundle && 'codePath' in workflowBundle ? workflowBundle.codePath : undefined;
    const s = await withPrivateDevServer(async (temporal) => {
      const connection = await Connection.connect(connectionOptions(temporal));
      try {
        const client = new Client({ connection, namespace: temporal.namespace });
        return await measureScaleOut({ client, ...temporal }, 5, prebuilt);
      } finally {
        await connection.close();
      }
    });
    for (const [run, workers] of [
      [s.one, 1],
      [s.two, 2],
    ] as const) {
      expect(run).toMatchObject({ workers, releases: 5, regionsPerRelease: 5, succeeded: 5, failures: [] });
      expect(run.workerPeakRssBytes).toHaveLength(workers);
      // Each worker process was measured: a Node process with a Temporal worker holds tens of MiB at least.
      for (const rss of run.workerPeakRssBytes) expect(rss).toBeGreaterThan(20 * 2 ** 20);
      expect(run.regionsPerSecond).toBeGreaterThan(0);
    }

    const { text, figures } = describeScaleOut(s);
    expect(text).toMatch(
      /^scale on a dev server of its own, 5 concurrent releases, \d+ cores .*1 worker process: 5\/5 releases .*2 worker processes: 5\/5 releases .*two workers give [\d.]+x one's throughput \(target 1\.7x\)$/,
    );
    expect(figures).toHaveLength(6);
    for (const f of figures) expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
  });
});
