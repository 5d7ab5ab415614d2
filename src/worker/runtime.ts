import { DefaultLogger, Runtime, type RuntimeOptions } from '@temporalio/worker';
import type { Logger } from 'pino';

/** Prefix of the SDK's metrics (its default, which Temporal's dashboards expect). */
export const metricPrefix = 'temporal_';

let installedMetricsAddress: string | undefined | null = null;

/**
 * The one Runtime.install of the process: the SDK's own logs through pino at warn and above, and, with
 * a metrics address, the Prometheus endpoint that serves both the SDK's metrics and Meridian's own
 * (emitted through the workflow and activity `metricMeter`), each tagged `service="meridian-worker"`.
 */
export function runtimeOptions(logger: Logger, metricsAddress?: string): RuntimeOptions {
  return {
    logger: new DefaultLogger('WARN', (entry) => {
      const level = entry.level === 'ERROR' ? 'error' : 'warn';
      logger[level]({ ...entry.meta }, entry.message);
    }),
    telemetryOptions: metricsAddress
      ? {
          metrics: {
            metricPrefix,
            globalTags: { service: 'meridian-worker' },
            prometheus: { bindAddress: metricsAddress },
          },
        }
      : undefined,
  };
}

/** Installs the runtime once per process; a later call with another metrics address only warns. */
export function installRuntime(logger: Logger, metricsAddress?: string): void {
  if (installedMetricsAddress !== null) {
    if (installedMetricsAddress !== metricsAddress)
      logger.warn(
        { metricsAddress, installed: installedMetricsAddress },
        'the SDK runtime is installed already; its metrics setting stays',
      );
    return;
  }
  installedMetricsAddress = metricsAddress;
  try {
    Runtime.install(runtimeOptions(logger, metricsAddress));
  } catch (err) {
    // Someone else installed it first (a test harness, an embedding process): theirs stays.
    if (!/already been (instantiated|installed)/.test((err as Error).message)) throw err;
    installedMetricsAddress = undefined;
    if (metricsAddress)
      logger.warn({ metricsAddress }, 'the SDK runtime was installed elsewhere: no metrics endpoint from this worker');
  }
}
