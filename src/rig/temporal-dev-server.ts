import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { InvalidInputError, UnreachableError } from '../domain/errors';
import { parseYaml } from '../domain/yaml-document';
import { formatZodIssues } from '../domain/zod-issues';
import { type ManagedProcess, runningPid, startDetached, stopProcess, tailOf, waitFor } from './processes';
import type { RigConfig, RigLayout } from './rig-config';
import { requireTool } from './toolchain';

const devServerConfigSchema = z
  .object({
    searchAttributes: z.record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
      z.enum(['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList']),
    ),
    dynamicConfig: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type DevServerConfig = z.infer<typeof devServerConfigSchema>;

/** The dev server's config under temporal/: search attributes and dynamic config. */
export function loadDevServerConfig(
  file = resolve(__dirname, '..', '..', 'temporal', 'dev-server.yaml'),
): DevServerConfig {
  const parsed = devServerConfigSchema.safeParse(parseYaml(readFileSync(file, 'utf8'), file), { reportInput: true });
  if (!parsed.success)
    throw new InvalidInputError(`${file} is invalid`, formatZodIssues(parsed.error, '', devServerConfigSchema));
  return parsed.data;
}

export function temporalProcess(layout: RigLayout): ManagedProcess {
  return { name: 'temporal', pidFile: join(layout.dir, 'temporal.pid'), logFile: join(layout.logs, 'temporal.log') };
}

export interface TemporalEndpoints {
  /** host:port of the gRPC frontend. */
  address: string;
  namespace: string;
  /** Base URL of the Web UI. */
  uiUrl: string;
}

export function temporalEndpoints(config: RigConfig): TemporalEndpoints {
  return {
    address: `127.0.0.1:${config.temporal.port}`,
    namespace: config.temporal.namespace,
    uiUrl: `http://127.0.0.1:${config.temporal.uiPort}`,
  };
}

/** Command-line arguments of `temporal server start-dev` for the rig. */
export function devServerArgs(config: RigConfig, layout: RigLayout, server: DevServerConfig): string[] {
  return startDevArgs(
    {
      port: config.temporal.port,
      uiPort: config.temporal.uiPort,
      namespace: config.temporal.namespace,
      dbFile: layout.temporalDb,
    },
    server,
  );
}

/** Where a dev server listens and keeps its state. */
export interface DevServerListen {
  port: number;
  /** The Web UI's port; none: headless. */
  uiPort?: number;
  namespace: string;
  /** Its SQLite file; none: in memory, gone when it stops. */
  dbFile?: string;
}

/** Command-line arguments of `temporal server start-dev` with Meridian's search attributes and dynamic config. */
export function startDevArgs(listen: DevServerListen, server: DevServerConfig): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(listen.port)];
  args.push(...(listen.uiPort !== undefined ? ['--ui-port', String(listen.uiPort)] : ['--headless']));
  args.push('--namespace', listen.namespace);
  if (listen.dbFile !== undefined) args.push('--db-filename', listen.dbFile);
  args.push('--log-format', 'json', '--log-level', 'warn');
  for (const [name, type] of Object.entries(server.searchAttributes))
    args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(server.dynamicConfig))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}

/** Whether the frontend answers for the namespace. */
export async function temporalAnswers(endpoints: TemporalEndpoints, timeoutMs = 2_000): Promise<boolean> {
  return frontendAnswers({ address: endpoints.address, connectTimeout: timeoutMs }, endpoints.namespace);
}

/** Whether a frontend answers over `options` (TLS, API key): for the namespace when one is named, else at all. */
export async function frontendAnswers(options: ConnectionOptions, namespace?: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect(options);
    if (namespace) await connection.workflowService.describeNamespace({ namespace });
    else await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Whether the Web UI serves its page. */
export async function uiAnswers(endpoints: TemporalEndpoints): Promise<boolean> {
  try {
    const res = await fetch(endpoints.uiUrl, { signal: AbortSignal.timeout(2_000) });
    return res.ok && (await res.text()).includes('<html');
  } catch {
    return false;
  }
}

/** Starts the dev server unless it runs already; waits until the frontend and the UI answer. */
export async function startTemporal(config: RigConfig, layout: RigLayout): Promise<{ started: boolean; pid: number }> {
  const proc = temporalProcess(layout);
  const endpoints = temporalEndpoints(config);
  const existing = runningPid(proc);
  if (existing !== undefined && (await temporalAnswers(endpoints))) return { started: false, pid: existing };
  if (existing === undefined && (await temporalAnswers(endpoints))) {
    throw new InvalidInputError(
      `port ${config.temporal.port} already serves a Temporal frontend that this rig did not start: stop it, or set temporal.port in ${config.file}`,
    );
  }
  const binary = requireTool('temporal');
  const pid = existing ?? startDetached(proc, binary, devServerArgs(config, layout, loadDevServerConfig()));
  const ok = await waitFor(async () => (await temporalAnswers(endpoints)) && (await uiAnswers(endpoints)), 60_000, 500);
  if (!ok) {
    const tail = tailOf(proc.logFile);
    await stopProcess(proc);
    throw new UnreachableError(
      `the Temporal dev server did not answer on ${endpoints.address} within 60s; its log ends:\n${tail}`,
    );
  }
  await ensureSearchAttributes(endpoints, loadDevServerConfig());
  return { started: existing === undefined, pid };
}

const indexedValueType: Record<DevServerConfig['searchAttributes'][string], temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Registers the search attributes that the namespace lacks. The dev server registers its
 * --search-attribute flags only when it creates the SQLite file, so attributes added to the config
 * later would otherwise be missing after a restart.
 */
export async function ensureSearchAttributes(endpoints: TemporalEndpoints, server: DevServerConfig): Promise<string[]> {
  const connection = await Connection.connect({ address: endpoints.address });
  try {
    return await registerSearchAttributes(connection, endpoints.namespace, server);
  } finally {
    await connection.close();
  }
}

/** Registers, through the operator API, the search attributes that the namespace lacks; returns their names. */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  server: DevServerConfig,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.entries(server.searchAttributes).filter(([name]) => !known.has(name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, indexedValueType[type]])),
    });
  }
  return missing.map(([name]) => name);
}

export async function stopTemporal(layout: RigLayout): Promise<boolean> {
  return stopProcess(temporalProcess(layout), 15_000);
}
