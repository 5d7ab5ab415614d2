import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { workerSecrets } from '../infra/checks/check-environment';
import { allowCommandChecksVariable } from '../infra/checks/run-checks';
import { createActivities } from '../activities/region-activities';
import { credentialsFromEnv } from '../infra/registry/registry-auth';
import { registrySecretFromEnv } from '../infra/registry/secret-credentials';
import { dataConverterFromEnv } from '../codec/data-converter';
import { checkDuration } from '../domain/duration';
import { quoteExcerpt } from '../domain/excerpt';
import { InvalidInputError } from '../domain/errors';
import { connectionOptions, type TemporalConnectionConfig } from '../temporal/connection-config';
import { explainTemporalFailure } from '../temporal/connection-errors';
import { taskQueue as defaultTaskQueue } from '../workflows/definitions';
import { installRuntime } from './runtime';

export interface WorkerOptions {
  /** host:port of the Temporal frontend. */
  address: string;
  /** Namespace the worker polls. */
  namespace: string;
  /** TLS, API key and gRPC headers, from loadTemporalConnectionConfig; none (plaintext) for the local rig. */
  connection?: Omit<TemporalConnectionConfig, 'address' | 'namespace'>;
  /** Payload codec; by default the one MERIDIAN_CODEC_KEYS configures (none when unset). */
  dataConverter?: DataConverter;
  taskQueue?: string;
  helmPath: string;
  kubeconfigFile?: string;
  logger: Logger;
  /** Most activities run at once. */
  maxConcurrentActivities?: number;
  pollIntervalMs?: number;
  /** host:port of the SDK's Prometheus endpoint (`/metrics`); none when unset. */
  metricsAddress?: string;
  /** How long in-flight activity attempts may run on after shutdown begins, in ms (default 30s). */
  shutdownGraceMs?: number;
  /** Whether command checks run on this worker; by default MERIDIAN_ALLOW_COMMAND_CHECKS (off when unset). */
  allowCommandChecks?: boolean;
}

/** Shutdown grace when MERIDIAN_SHUTDOWN_GRACE is not set. */
export const defaultShutdownGraceMs = 30_000;
/** Longest shutdown grace accepted. */
export const maxShutdownGraceMs = 10 * 60_000;

/** MERIDIAN_SHUTDOWN_GRACE as milliseconds: a duration from 0 to 10m, 30s when unset. */
export function shutdownGraceFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env.MERIDIAN_SHUTDOWN_GRACE?.trim();
  if (!text) return defaultShutdownGraceMs;
  const checked = checkDuration(text, maxShutdownGraceMs);
  if (typeof checked === 'string') throw new InvalidInputError(`MERIDIAN_SHUTDOWN_GRACE: ${checked}`);
  return checked;
}

/** MERIDIAN_ALLOW_COMMAND_CHECKS: 1/true/yes lets command checks run programs on this worker; 0/false/no or unset does not. */
export function allowCommandChecksFromEnv(env: NodeJS.ProcessEnv): boolean {
  const text = env[allowCommandChecksVariable]?.trim().toLowerCase();
  if (!text || ['0', 'false', 'no'].includes(text)) return false;
  if (['1', 'true', 'yes'].includes(text)) return true;
  throw new InvalidInputError(
    `${allowCommandChecksVariable} is ${quoteExcerpt(env[allowCommandChecksVariable] ?? '')}: give 1 to let command checks run on this worker, or 0 (the default) to refuse them`,
  );
}

/** A `host:port` for the metrics endpoint, or an InvalidInputError naming `name`. */
export function checkMetricsAddress(address: string, name: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address.trim());
  if (!match || Number(match[2]) > 65535)
    throw new InvalidInputError(
      `${name} is ${quoteExcerpt(address)}: give host:port, e.g. 127.0.0.1:9464 (0.0.0.0:9464 to be scraped from elsewhere)`,
    );
  return address.trim();
}

/** A worker that runs Meridian's workflows and activities. */
export async function createMeridianWorker(
  options: WorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime(options.logger, options.metricsAddress);
  const temporal: TemporalConnectionConfig = {
    sources: { tls: 'plaintext (no TLS configured)' },
    ...options.connection,
    address: options.address,
    namespace: options.namespace,
  };
  const dataConverter = options.dataConverter ?? dataConverterFromEnv(process.env);
  const allowCommandChecks = options.allowCommandChecks ?? allowCommandChecksFromEnv(process.env);
  // What check failures are scrubbed of, read once: the worker's credentials do not change while it runs.
  const tls = typeof temporal.tls === 'object' ? temporal.tls : undefined;
  const secrets = workerSecrets(process.env, {
    temporalApiKey: temporal.apiKey,
    temporalClientKey: tls?.clientCertPair?.key,
    kubeconfigFile: options.kubeconfigFile,
  });
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectionOptions(temporal));
  } catch (err) {
    throw explainTemporalFailure(err, temporal) ?? err;
  }
  // Activities that look up earlier releases (load-test baselines) share one client, connected on first use.
  let client: Promise<Client> | undefined;
  const temporalClient = () => {
    client ??= Connection.connect(connectionOptions(temporal)).then(
      (c) => new Client({ connection: c, namespace: temporal.namespace, dataConverter }),
      (err: unknown) => {
        client = undefined; // the next lookup tries again
        throw explainTemporalFailure(err, temporal) ?? err;
      },
    );
    return client;
  };
  const graceMs = options.shutdownGraceMs ?? defaultShutdownGraceMs;
  try {
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: options.taskQueue ?? defaultTaskQueue,
      workflowsPath: require.resolve('../workflows'),
      // Hands operator handlers the identity Temporal recorded for each signal's and update's sender.
      interceptors: { workflowModules: [require.resolve('../workflows/sender-identity')] },
      dataConverter,
      activities: createActivities({
        helmPath: options.helmPath,
        kubeconfigFile: options.kubeconfigFile,
        logger: options.logger,
        pollIntervalMs: options.pollIntervalMs,
        temporalClient,
        registryCredentials: credentialsFromEnv(process.env),
        registrySecret: registrySecretFromEnv(process.env),
        allowCommandChecks,
        secrets,
      }),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 50,
      shutdownGraceTime: graceMs,
      // Past the grace, activities are cancelled; this bounds how long they may take to notice.
      shutdownForceTime: graceMs + 30_000,
    });
    return { worker, connection };
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw explainTemporalFailure(err, temporal) ?? err;
  }
}
