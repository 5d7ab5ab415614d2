import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { stringify } from 'yaml';
import { MissingPrerequisiteError, UnreachableError } from '../domain/errors';
import { type PostgresTarget } from './postgres-server';
import { type ManagedProcess, readTextOr, runningPid, startDetached, stopProcess, tailOf, waitFor } from './processes';
import type { RigConfig, RigLayout } from './rig-config';
import { type RigCredentials, signToken } from './rig-credentials';
import {
  type DevServerConfig,
  frontendAnswers,
  loadDevServerConfig,
  registerSearchAttributes,
} from './temporal-dev-server';
import { requireTool, toolchainCacheDir } from './toolchain';

const run = promisify(execFile);

/** Versions the production profile runs (toolchain/versions.env pins the same). */
export const temporalServerVersion = 'v1.29.1';

/** Ports of the cluster's services besides the frontend, on 127.0.0.1. */
export const clusterPorts = {
  history: { grpc: 7234, membership: 6934 },
  matching: { grpc: 7235, membership: 6935 },
  internalFrontend: { grpc: 7236, membership: 6936 },
  worker: { grpc: 7239, membership: 6939 },
  frontendMembership: 6933,
  frontendHttp: 7243,
  /** The server's own Prometheus metrics. */
  metrics: 8000,
} as const;

/** The rig's two databases, as the server's persistence config and the schema tool name them. */
const databases = { default: 'temporal', visibility: 'temporal_visibility' } as const;

export function temporalServerProcess(layout: RigLayout): ManagedProcess {
  return {
    name: 'temporal-server',
    pidFile: join(layout.dir, 'temporal-server.pid'),
    logFile: join(layout.logs, 'temporal-server.log'),
  };
}

function serverDir(layout: RigLayout): string {
  return join(layout.dir, 'temporal-server');
}

/** The schema and config folders copied out of the server's Go module by the toolchain script. */
export function serverModuleDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = join(toolchainCacheDir(env), `temporal-server-${temporalServerVersion}`);
  if (!existsSync(join(dir, 'schema', 'postgresql'))) {
    throw new MissingPrerequisiteError(
      `missing the Temporal server's schema folders (${dir}): run \`npm run setup\` to build the server ${temporalServerVersion}`,
    );
  }
  return dir;
}

/** Dynamic config in the server's file format (each key a list of constrained values). */
export function dynamicConfigText(server: DevServerConfig): string {
  return stringify(Object.fromEntries(Object.entries(server.dynamicConfig).map(([key, value]) => [key, [{ value }]])));
}

/**
 * The server's static config: PostgreSQL persistence and SQL visibility, every service on loopback, the
 * frontend behind mTLS (client certificates from the rig's CA required), Temporal's default JWT claim
 * mapper and authorizer with the rig's published key set, and an internal frontend that the server's own
 * system workers use, as Temporal recommends once authorization is on.
 */
export function temporalServerConfig(
  config: RigConfig,
  layout: RigLayout,
  pg: PostgresTarget,
  creds: RigCredentials,
  jwksUrl: string,
): object {
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pg.port}`,
      connectProtocol: 'tcp',
      user: pg.user,
      password: pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: object = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': sql(databases.default, 20),
        'postgres-visibility': sql(databases.visibility, 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${clusterPorts.metrics}` },
      },
      tls: {
        frontend: {
          server: {
            certFile: creds.serverCert,
            keyFile: creds.serverKey,
            requireClientAuth: true,
            clientCaFiles: [creds.caCert],
          },
          client: { serverName: 'localhost', rootCaFiles: [creds.caCert] },
        },
      },
      authorization: {
        jwtKeyProvider: { keySourceURIs: [jwksUrl], refreshInterval: '1m' },
        permissionsClaimName: 'permissions',
        authorizer: 'default',
        claimMapper: 'default',
      },
    },
    services: {
      frontend: rpc(config.temporal.port, clusterPorts.frontendMembership, { httpPort: clusterPorts.frontendHttp }),
      'internal-frontend': rpc(clusterPorts.internalFrontend.grpc, clusterPorts.internalFrontend.membership),
      history: rpc(clusterPorts.history.grpc, clusterPorts.history.membership),
      matching: rpc(clusterPorts.matching.grpc, clusterPorts.matching.membership),
      worker: rpc(clusterPorts.worker.grpc, clusterPorts.worker.membership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `localhost:${config.temporal.port}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: join(serverDir(layout), 'config', 'dynamicconfig.yaml'), pollInterval: '10s' },
  };
}

/** The environment of temporal-sql-tool: the password stays off the command line (and out of `ps`). */
function sqlToolEnv(pg: PostgresTarget, database: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
    SQL_DATABASE: database,
  };
}

async function sqlTool(pg: PostgresTarget, database: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(requireTool('temporal-sql-tool'), args, {
      env: sqlToolEnv(pg, database),
      timeout: 300_000,
    });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  }
}

/**
 * Creates both databases and brings their schemas up to the server's version with the server's own
 * tool and schema folders: `create-database`, `setup-schema -v 0.0` for a new database, then
 * `update-schema` (which applies only the versions the database lacks, so it runs on every start).
 */
export async function ensureTemporalSchema(pg: PostgresTarget, report: (line: string) => void): Promise<void> {
  const schemaRoot = join(serverModuleDir(), 'schema', 'postgresql', 'v12');
  for (const [key, database] of Object.entries(databases)) {
    // Each step leaves what exists as it is (create-database and setup-schema find it there), so the
    // same three steps serve a new database and one from an earlier version of the server.
    const created = await sqlTool(pg, database, ['create-database']);
    if (!created.ok && !/already exists/i.test(created.output))
      throw new UnreachableError(`temporal-sql-tool create-database ${database} failed: ${lastLines(created.output)}`);
    const setup = await sqlTool(pg, database, ['setup-schema', '-v', '0.0']);
    if (!setup.ok)
      throw new UnreachableError(`temporal-sql-tool setup-schema ${database} failed: ${lastLines(setup.output)}`);
    const folder = join(schemaRoot, key === 'default' ? 'temporal' : 'visibility', 'versioned');
    const update = await sqlTool(pg, database, ['update-schema', '-d', folder]);
    if (!update.ok)
      throw new UnreachableError(`temporal-sql-tool update-schema ${database} failed: ${lastLines(update.output)}`);
  }
  report(
    `schemas of ${Object.values(databases).join(' and ')} up to date (temporal-sql-tool, ${temporalServerVersion})`,
  );
}

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/** How the rig itself (and `dev status`) connects: mTLS with the rig's client certificate, and an admin API key. */
export function rigConnectionOptions(config: RigConfig, creds: RigCredentials): ConnectionOptions {
  return {
    address: `127.0.0.1:${config.temporal.port}`,
    tls: {
      serverNameOverride: 'localhost',
      serverRootCACertificate: readFileSync(creds.caCert),
      clientCertPair: { crt: readFileSync(creds.clientCert), key: readFileSync(creds.clientKey) },
    },
    apiKey: rigApiKey(creds),
    connectTimeout: 2_000,
  };
}

/** The rig operator's API key: system admin, so that it can create the namespace and search attributes. */
export function rigApiKey(creds: RigCredentials): string {
  const file = join(creds.dir, 'api-key');
  const existing = readTextOr(file)?.trim();
  if (existing && tokenValidFor(existing, 2 * 86_400)) return existing;
  const token = signToken(readFileSync(creds.jwtSigningKey, 'utf8'), {
    subject: 'meridian-rig-operator',
    permissions: ['temporal-system:admin', 'default:admin'],
    ttlSeconds: 30 * 86_400,
  });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function tokenValidFor(token: string, seconds: number): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp?: number };
    return typeof payload.exp === 'number' && payload.exp * 1000 > Date.now() + seconds * 1000;
  } catch {
    return false;
  }
}

/** Whether the frontend answers for the namespace, over mTLS with the admin key. */
export const clusterAnswers = (options: ConnectionOptions, namespace: string) => frontendAnswers(options, namespace);

/** Registers the namespace (three days' retention) unless it exists. */
async function ensureNamespace(options: ConnectionOptions, namespace: string): Promise<boolean> {
  const connection = await Connection.connect(options);
  try {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return false;
    } catch {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('3 days'),
      });
      return true;
    }
  } finally {
    await connection.close();
  }
}

/**
 * Starts the cluster (all five services in one process) unless it
 * runs with the same config, then registers the namespace and Meridian's search attributes through the
 * operator API.
 */
export async function startTemporalCluster(
  config: RigConfig,
  layout: RigLayout,
  pg: PostgresTarget,
  creds: RigCredentials,
  jwksUrl: string,
  report: (line: string) => void,
): Promise<{ started: boolean; pid: number }> {
  const proc = temporalServerProcess(layout);
  const options = rigConnectionOptions(config, creds);
  const devServer = loadDevServerConfig();
  const dir = join(serverDir(layout), 'config');
  mkdirSync(dir, { recursive: true });
  const configText = `# Generated by \`meridian dev up --profile production\` from ${config.file}.\n${stringify(temporalServerConfig(config, layout, pg, creds, jwksUrl))}`;
  const configFile = join(dir, 'production.yaml');
  const existing = runningPid(proc);
  const keep =
    existing !== undefined &&
    readTextOr(configFile) === configText &&
    (await clusterAnswers(options, config.temporal.namespace));
  let pid = existing ?? 0;
  if (!keep) {
    if (existing !== undefined) await stopProcess(proc, 15_000);
    await ensureTemporalSchema(pg, report);
    writeFileSync(configFile, configText, { mode: 0o600 });
    writeFileSync(join(dir, 'dynamicconfig.yaml'), dynamicConfigText(devServer));
    // `start` runs four services by default; the internal frontend must be named to run too.
    const services = ['frontend', 'internal-frontend', 'history', 'matching', 'worker'].flatMap((s) => [
      '--service',
      s,
    ]);
    pid = startDetached(proc, requireTool('temporal-server'), [
      '--root',
      serverDir(layout),
      '--config',
      'config',
      '--env',
      'production',
      'start',
      ...services,
    ]);
    const up = await waitFor(() => frontendAnswers(options), 90_000, 500);
    if (!up) {
      const tail = tailOf(proc.logFile);
      await stopProcess(proc);
      throw new UnreachableError(
        `the Temporal server did not answer on ${options.address} within 90s; its log ends:\n${tail}`,
      );
    }
  }
  if (await ensureNamespace(options, config.temporal.namespace))
    report(`namespace ${config.temporal.namespace} registered`);
  // A new namespace reaches every service's cache within seconds; until then the operator API says it is not found.
  let added: string[] | undefined;
  const registered = await waitFor(
    async () => {
      const connection = await Connection.connect(options);
      try {
        added = await registerSearchAttributes(connection, config.temporal.namespace, devServer);
        return await clusterAnswers(options, config.temporal.namespace);
      } finally {
        await connection.close();
      }
    },
    60_000,
    500,
  );
  if (!registered)
    throw new UnreachableError(
      `the Temporal server did not serve namespace ${config.temporal.namespace} within 60s; its log ends:\n${tailOf(proc.logFile)}`,
    );
  if (added?.length) report(`search attributes registered: ${added.join(', ')}`);
  return { started: !keep, pid };
}

export async function stopTemporalCluster(layout: RigLayout): Promise<boolean> {
  return stopProcess(temporalServerProcess(layout), 20_000);
}
