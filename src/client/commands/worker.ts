import { createLogger } from '../../worker/logger';
import { createMeridianWorker } from '../../worker/run-worker';
import { parseCommandArgs } from '../args';
import type { CommandContext } from '../command';
import { temporalTarget } from '../temporal';
import { helmPath } from './render';

/** `meridian worker`: runs releases until SIGINT or SIGTERM. Credentials come from its environment. */
export async function workerCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('worker', argv, { 'task-queue': { type: 'string' }, kubeconfig: { type: 'string' } }, '[--task-queue NAME] [--kubeconfig FILE]');
  const target = temporalTarget(ctx.env);
  const logger = createLogger();
  const { worker, connection } = await createMeridianWorker({
    address: target.address,
    namespace: target.namespace,
    taskQueue: values['task-queue'],
    helmPath: helmPath(ctx.env),
    kubeconfigFile: values.kubeconfig ?? ctx.env.KUBECONFIG,
    logger,
  });
  logger.info({ address: target.address, namespace: target.namespace }, 'worker started');
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  logger.info('worker stopped');
  return 0;
}
