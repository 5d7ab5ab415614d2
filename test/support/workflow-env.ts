import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { MeridianActivities } from '../../src/activities/region-activities';
import { loadDevServerConfig } from '../../src/rig/temporal-dev-server';
import { requireTool } from '../../src/rig/toolchain';
import { taskQueue } from '../../src/workflows/definitions';
import { workflowCode } from './workflow-bundles';

/**
 * The workflow modules and interceptors exactly as `meridian worker` registers them, from the bundle
 * the jest run built once (test/support/workflow-bundles.ts).
 */
export const workflowWorkerOptions = workflowCode('meridian');

/**
 * The time-skipping test server (built by the toolchain) with Meridian's search attributes registered,
 * as the dev server has them: the test server knows no custom search attributes until told.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireTool('temporal-test-server') } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.keys(loadDevServerConfig().searchAttributes).map((name) => [
        name,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}

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
