import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type BufferedMetricUpdate, DefaultLogger, MetricsBuffer, Runtime, Worker } from '@temporalio/worker';
import { timeSkippingEnvironment } from '../../src/bench/time-skipping-server';
import { taskQueue } from '../../src/workflows/definitions';
import { releaseWorkflow } from '../../src/workflows/release-workflow';
import { exampleInput, fakeActivities, withoutGates } from '../support/fake-activities';
import { workflowCode } from '../support/workflow-bundles';

/**
 * Meridian's metrics as the worker's runtime receives them: a runtime whose telemetry writes into a
 * buffer, one release that fails a region and rolls everything back, then a replay of its history,
 * which must add nothing.
 */
const buffer = new MetricsBuffer({ maxBufferSize: 100_000 });
const fake = fakeActivities();
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  // The setup file installed a quiet runtime, unused so far: replace it with one that also buffers metrics.
  await Runtime.instance().shutdown();
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { metrics: { buffer } } });
  env = await timeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

/** Meridian's own updates drained from the buffer: name, value and the tags Meridian sets. */
function meridianUpdates(): { name: string; value: number; tags: Record<string, unknown> }[] {
  return [...buffer.retrieveUpdates()]
    .filter((u: BufferedMetricUpdate) => u.metric.name.startsWith('meridian_'))
    .map((u) => {
      const { region, app, phase, by, outcome, onFailure } = u.attributes as Record<string, unknown>;
      const tags = Object.fromEntries(
        Object.entries({ region, app, phase, by, outcome, onFailure }).filter(([, v]) => v !== undefined),
      );
      return { name: u.metric.name, value: Number(u.value), tags };
    });
}

it('a release counts its start and end, regions deployed and rolled back, bakes and the time to halt; a replay of it counts nothing', async () => {
  const input = exampleInput(
    'wf-metrics',
    (spec) => {
      withoutGates(spec);
      spec.spec.rollout.onFailure = 'rollback-all';
    },
    { canarySoakMs: 3_600_000, bakeMs: 0 },
  );
  fake.behave(input.releaseId, { failChecks: { 'eu-west': Infinity } });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    ...workflowCode('plain'),
    activities: fake.activities,
  });
  const failed = await worker.runUntil(
    env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }).then(
      () => undefined,
      (err: unknown) => err,
    ),
  );
  expect(failed).toBeInstanceOf(WorkflowFailedError);

  const updates = meridianUpdates();
  const named = (name: string) => updates.filter((u) => u.name === name);
  expect(named('meridian_releases_started_total')).toEqual([
    { name: 'meridian_releases_started_total', value: 1, tags: { app: 'shop-api' } },
  ]);
  expect(named('meridian_releases_total')).toEqual([
    { name: 'meridian_releases_total', value: 1, tags: { app: 'shop-api', phase: 'Failed' } },
  ]);
  const deployed = named('meridian_regions_deployed_total').map((u) => u.tags.region);
  expect(deployed).toContain('us-east-canary');
  const rolledBack = named('meridian_regions_rolled_back_total').map((u) => `${u.tags.region} by ${u.tags.by}`);
  expect(rolledBack).toContain('eu-west by region');
  expect(rolledBack).toEqual(expect.arrayContaining(deployed.map((region) => `${region} by release`)));
  // The canary's 1h soak, as the workflow's clock saw it (task times, so a little over).
  const soak = named('meridian_bake_duration_ms').find((u) => u.tags.region === 'us-east-canary');
  expect(soak).toMatchObject({ tags: { region: 'us-east-canary', outcome: 'passed' } });
  expect(soak!.value).toBeGreaterThanOrEqual(3_600_000);
  expect(soak!.value).toBeLessThan(3_660_000);
  const halt = named('meridian_time_to_halt_ms');
  expect(halt).toEqual([
    {
      name: 'meridian_time_to_halt_ms',
      value: expect.any(Number),
      tags: { region: 'eu-west', onFailure: 'rollback-all' },
    },
  ]);

  const history = await env.client.workflow.getHandle(input.releaseId).fetchHistory();
  await Worker.runReplayHistory({ ...workflowCode('plain'), replayName: 'metrics' }, history);
  expect(meridianUpdates()).toEqual([]);
});
