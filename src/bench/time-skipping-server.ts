/**
 * Temporal's time-skipping test server (built by the toolchain) with Meridian's search attributes
 * registered as the dev server has them: a 72-hour soak runs in seconds. The workflow tests use it too.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { loadDevServerConfig } from '../rig/temporal-dev-server';
import { requireTool } from '../rig/toolchain';

/** A fresh time-skipping server; the caller tears it down. */
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

/** Runs `body` on a fresh time-skipping server; tears the server down after. */
export async function withTimeSkippingServer<T>(body: (env: TestWorkflowEnvironment) => Promise<T>): Promise<T> {
  const env = await timeSkippingEnvironment();
  try {
    return await body(env);
  } finally {
    await env.teardown();
  }
}
