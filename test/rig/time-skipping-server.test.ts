import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { requireTool } from '../../src/rig/toolchain';
import { sleepingWorkflow } from '../fixtures/rig-workflows';

describe('the time-skipping test server from Maven Central', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: requireTool('temporal-test-server') } },
    });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('skips a 30-day timer: the workflow sees 30 days pass while the clock on the wall barely moves', async () => {
    const thirtyDays = 30 * 24 * 3600 * 1000;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'time-skipping',
      workflowsPath: require.resolve('../fixtures/rig-workflows'),
    });
    const wallStart = Date.now();
    const serverStart = await env.currentTimeMs();
    const { sleptMs } = await worker.runUntil(
      env.client.workflow.execute(sleepingWorkflow, {
        taskQueue: 'time-skipping',
        workflowId: 'sleeper',
        args: [thirtyDays],
      }),
    );
    expect(sleptMs).toBeGreaterThanOrEqual(thirtyDays);
    expect((await env.currentTimeMs()) - serverStart).toBeGreaterThanOrEqual(thirtyDays);
    // Far less than the timer itself: the server skipped the time rather than waiting it out.
    expect(Date.now() - wallStart).toBeLessThan(thirtyDays / 1000);
  });
});
