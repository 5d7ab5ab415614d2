import { hostname, userInfo } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '../codec/data-converter';
import {
  connectionOptions,
  loadTemporalConnectionConfig,
  type TemporalConnectionConfig,
} from '../temporal/connection-config';
import { explainTemporalFailure } from '../temporal/connection-errors';

/** Where Temporal is (see src/temporal/connection-config.ts: TEMPORAL_* and temporal.toml), plus the Web UI's URL. */
export function temporalTarget(env: NodeJS.ProcessEnv): TemporalConnectionConfig & { uiUrl: string } {
  return { ...loadTemporalConnectionConfig(env), uiUrl: env.MERIDIAN_UI_URL ?? 'http://127.0.0.1:8233' };
}

/**
 * A connected client that encrypts payloads when MERIDIAN_CODEC_KEYS is set. An unreachable server is
 * an UnreachableError (exit code 3), a refused credential or failed TLS handshake a
 * TemporalCredentialError (exit code 2) naming which credential; both say what to do.
 */
export async function connectClient(
  env: NodeJS.ProcessEnv,
): Promise<{ client: Client; close: () => Promise<void>; target: ReturnType<typeof temporalTarget> }> {
  const target = temporalTarget(env);
  const dataConverter = dataConverterFromEnv(env);
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...connectionOptions(target), connectTimeout: 5_000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    await connection?.close().catch(() => undefined);
    throw explainTemporalFailure(err, target) ?? err;
  }
  const connected = connection;
  return {
    client: new Client({ connection: connected, namespace: target.namespace, dataConverter }),
    close: () => connected.close(),
    target,
  };
}

/** Who is acting, as recorded with operator actions: MERIDIAN_OPERATOR or user@host. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  if (env.MERIDIAN_OPERATOR) return env.MERIDIAN_OPERATOR;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

/** Link to a workflow in the Web UI. */
export function workflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
