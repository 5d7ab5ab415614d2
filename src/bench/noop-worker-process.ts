/**
 * A no-op worker in a process of its own, for the scale-out section: several of them share one task
 * queue as production workers do. Polls MERIDIAN_BENCH_TASK_QUEUE on the plaintext server at
 * MERIDIAN_BENCH_ADDRESS (namespace MERIDIAN_BENCH_NAMESPACE) with the workflow bundle at
 * MERIDIAN_BENCH_BUNDLE until SIGTERM; prints `ready` once it polls.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { noopActivities } from './noop-worker';

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const address = env.MERIDIAN_BENCH_ADDRESS;
  const taskQueue = env.MERIDIAN_BENCH_TASK_QUEUE;
  const codePath = env.MERIDIAN_BENCH_BUNDLE;
  if (!address || !taskQueue || !codePath)
    throw new Error('MERIDIAN_BENCH_ADDRESS, MERIDIAN_BENCH_TASK_QUEUE and MERIDIAN_BENCH_BUNDLE are needed');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: env.MERIDIAN_BENCH_NAMESPACE ?? 'default',
      taskQueue,
      // Built once by the section with Meridian's workflows and interceptors (bundleMeridianWorkflows).
      workflowBundle: { codePath },
      activities: noopActivities,
    });
    process.once('SIGTERM', () => worker.shutdown());
    const running = worker.run();
    console.log('ready');
    await running;
  } finally {
    await connection.close();
  }
}

main(process.env).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
