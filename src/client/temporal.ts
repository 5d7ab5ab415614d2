import { hostname, userInfo } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { UnreachableError } from '../domain/errors';

/** Where Temporal is: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, or the local rig's defaults. */
export function temporalTarget(env: NodeJS.ProcessEnv) {
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    uiUrl: env.MERIDIAN_UI_URL ?? 'http://127.0.0.1:8233',
  };
}

/** A connected client; an unreachable server is an UnreachableError (exit code 3) that says what to do. */
export async function connectClient(env: NodeJS.ProcessEnv): Promise<{ client: Client; close: () => Promise<void>; target: ReturnType<typeof temporalTarget> }> {
  const target = temporalTarget(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address, connectTimeout: 5_000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw new UnreachableError(
      `cannot reach Temporal at ${target.address} (${(err as Error).message.split('\n')[0]}): start the local rig with \`meridian dev up\`, or set TEMPORAL_ADDRESS`,
    );
  }
  return { client: new Client({ connection, namespace: target.namespace }), close: () => connection.close(), target };
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
