import { noopWorkerOn, withNoopWorker } from '../../src/bench/noop-worker';
import {
  describeHistorySizes,
  historyLimits,
  measureManyRegionsHistory,
  measureSoakHistory,
} from '../../src/bench/history-size';
import { withPrivateDevServer } from '../../src/bench/private-dev-server';
import { withTimeSkippingServer } from '../../src/bench/time-skipping-server';
import { workflowCode } from '../support/workflow-bundles';

// Quick form of bench section 11: a 5-region release on a dev server of its own, and a 2-hour soak on a
// time-skipping server (the full section soaks 72 hours: 144 stretches of 30 minutes). Sizes depend on
// the code, not the machine, but this asserts what was measured, never a bound the next change would
// have to edit.
describe('history size bench (quick form)', () => {
  it('sizes a release and a soak against the limits', async () => {
    const code = workflowCode('meridian');
    const many = await withPrivateDevServer((temporal) =>
      withNoopWorker(temporal, (world) => measureManyRegionsHistory(world, 5), code),
    );
    expect(many).toMatchObject({ regions: 5, phase: 'Succeeded' });
    expect(many.release.events).toBeGreaterThan(5 * 3); // a start, a started and a completion per region at least
    expect(many.templateBytes).toBeGreaterThan(0);
    expect(many.childStartBytes).toBeGreaterThan(many.templateBytes);
    expect(many.release.bytes).toBeGreaterThan(5 * many.childStartBytes);

    const soak = await withTimeSkippingServer((env) =>
      noopWorkerOn(
        { native: env.nativeConnection, client: env.client, namespace: env.namespace ?? 'default' },
        (world) => measureSoakHistory(world, 2 * 3_600_000),
        code,
      ),
    );
    // 2 hours watched in 5-minute stretches (the shortest: src/workflows/region-workflow.ts analysisWindowMs).
    expect(soak).toMatchObject({ soakHours: 2, windows: 24 });
    expect(soak.canary.events).toBeGreaterThan(2 * 24);
    expect(soak.canary.events).toBeLessThan(historyLimits.events);

    const { text, figures } = describeHistorySizes(many, soak);
    expect(text).toMatch(
      /^history of a 5-region release \(Succeeded\): \d+ events \([\d.]+% of the 51,200-event limit\)/,
    );
    expect(text).toMatch(
      /a 2-hour canary soak with bake analysis \(24 stretches watched\): the canary's history [\d,]+ events/,
    );
    expect(figures.map((f) => [f.unit, f.baseline?.value])).toEqual([
      ['events', 51_200],
      ['MiB', 50],
      ['events', 51_200],
      ['MiB', 50],
    ]);
  });
});
