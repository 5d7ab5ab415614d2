import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities/region-activities';
import { credentialsFromEnv } from '../activities/registry/registry-auth';
import { registrySecretFromEnv } from '../activities/registry/secret-credentials';
import { taskQueue as defaultTaskQueue } from '../workflows/definitions';

export interface WorkerOptions {
  /** host:port of the Temporal frontend. */
  address: string;
  namespace: string;
  taskQueue?: string;
  helmPath: string;
  kubeconfigFile?: string;
  logger: Logger;
  /** Most activities run at once. */
  maxConcurrentActivities?: number;
  pollIntervalMs?: number;
}

let runtimeInstalled = false;

/** Sends the SDK's own logs through pino, at warn and above. */
function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      const level = entry.level === 'ERROR' ? 'error' : 'warn';
      logger[level]({ ...entry.meta }, entry.message);
    }),
  });
}

/** A worker that runs Meridian's workflows and activities. */
export async function createMeridianWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime(options.logger);
  const connection = await NativeConnection.connect({ address: options.address });
  // Activities that look up earlier releases (load-test baselines) share one client, connected on first use.
  let client: Promise<Client> | undefined;
  const temporalClient = () => {
    client ??= Connection.connect({ address: options.address }).then(
      (c) => new Client({ connection: c, namespace: options.namespace }),
      (err: unknown) => {
        client = undefined; // the next lookup tries again
        throw err;
      },
    );
    return client;
  };
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? defaultTaskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({
      helmPath: options.helmPath,
      kubeconfigFile: options.kubeconfigFile,
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
      temporalClient,
      registryCredentials: credentialsFromEnv(process.env),
      registrySecret: registrySecretFromEnv(process.env),
    }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 50,
  });
  return { worker, connection };
}
