import { GracefulShutdownPeriodExpiredError } from '@temporalio/worker';
import { dataConverterFromEnv } from '../../codec/data-converter';
import { formatDuration } from '../../domain/duration';
import { connectionLogFields } from '../../temporal/connection-config';
import { createLogger } from '../../worker/logger';
import { checkMetricsAddress, createMeridianWorker, shutdownGraceFromEnv } from '../../worker/run-worker';
import type { CommandContext } from '../command';
import { temporalTarget } from '../temporal';
import { helmPath } from './render';

const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * `meridian worker`: runs releases until SIGINT or SIGTERM. Where Temporal is and the credentials come
 * from its environment (TEMPORAL_*, temporal.toml profiles; see src/temporal/connection-config.ts),
 * payloads are encrypted when MERIDIAN_CODEC_KEYS is set, the SDK's Prometheus metrics are served at
 * MERIDIAN_METRICS_ADDRESS (or --metrics-address). The first signal stops polling and lets in-flight
 * activity attempts finish for MERIDIAN_SHUTDOWN_GRACE (default 30s), then exits 0; a second signal
 * exits at once with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell would.
 */
export async function workerCommand(
  values: { taskQueue?: string; kubeconfig?: string; metricsAddress?: string },
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  // Every setting is checked before anything connects, so bad config is exit 2 with nothing started.
  const target = temporalTarget(ctx.env);
  const dataConverter = dataConverterFromEnv(ctx.env);
  const shutdownGraceMs = shutdownGraceFromEnv(ctx.env);
  const metricsAddress =
    values.metricsAddress !== undefined
      ? checkMetricsAddress(values.metricsAddress, '--metrics-address')
      : ctx.env.MERIDIAN_METRICS_ADDRESS?.trim()
        ? checkMetricsAddress(ctx.env.MERIDIAN_METRICS_ADDRESS, 'MERIDIAN_METRICS_ADDRESS')
        : undefined;
  const logger = createLogger(ctx.env.MERIDIAN_LOG_LEVEL ?? 'info');
  const { worker, connection } = await createMeridianWorker({
    address: target.address,
    namespace: target.namespace,
    connection: target,
    dataConverter,
    taskQueue: values.taskQueue,
    helmPath: helmPath(ctx.env),
    kubeconfigFile: values.kubeconfig ?? ctx.env.KUBECONFIG,
    logger,
    metricsAddress,
    shutdownGraceMs,
  });
  const fields = {
    ...connectionLogFields(target),
    taskQueue: worker.options.taskQueue,
    codecKey: dataConverter?.payloadCodecs[0].encryptingKeyId,
    metrics: metricsAddress ? `http://${metricsAddress}/metrics` : undefined,
    shutdownGrace: formatDuration(shutdownGraceMs),
  };
  logger.info(fields, 'worker started');

  let stopping = false;
  const onSignal = (signal: keyof typeof signalExitCodes) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for activities');
      process.exit(signalExitCodes[signal]);
    }
    stopping = true;
    logger.info(
      { signal, shutdownGrace: fields.shutdownGrace },
      'worker stopping: no new tasks, in-flight activities may finish',
    );
    try {
      worker.shutdown();
    } catch {
      // Already stopping on its own (a fatal error): run() below reports why.
    }
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    await worker.run();
  } catch (err) {
    if (!(err instanceof GracefulShutdownPeriodExpiredError)) throw err;
    logger.error(
      { shutdownGrace: fields.shutdownGrace },
      'worker stopped before its activities finished: they did not end within the grace',
    );
    return 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await connection.close();
  }
  logger.info({ address: target.address, namespace: target.namespace }, 'worker stopped');
  return 0;
}
