import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { MeridianActivities } from '../../src/activities/region-activities';
import { timeSkippingEnvironment } from '../../src/bench/time-skipping-server';
import { taskQueue } from '../../src/workflows/definitions';
import { workflowCode } from './workflow-bundles';

/**
 * The workflow modules and interceptors exactly as `meridian worker` registers them, from the bundle
 * the jest run built once (test/support/workflow-bundles.ts).
 */
export const workflowWorkerOptions = workflowCode('meridian');

export { timeSkippingEnvironment };

/** A test server and a worker on Meridian's task queue running the workflows with `activities`; `stop` ends both. */
export async function workflowTestRig(
  activities: Partial<MeridianActivities>,
): Promise<{ env: TestWorkflowEnvironment; worker: Worker; stop: () => Promise<void> }> {
  const env = await timeSkippingEnvironment();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    ...workflowWorkerOptions,
    activities,
  });
  const running = worker.run();
  return {
    env,
    worker,
    stop: async () => {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
