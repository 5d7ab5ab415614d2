import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { codecFromEnv } from '../../src/codec/data-converter';
import { parse } from 'yaml';
import { postgresProcess } from '../../src/rig/postgres-server';
import { runningPid } from '../../src/rig/processes';
import { startProductionTemporal } from '../../src/rig/production-profile';
import { rigCredentialsDir } from '../../src/rig/rig-credentials';
import { temporalServerProcess } from '../../src/rig/temporal-cluster';
import { requireTool } from '../../src/rig/toolchain';
import { rig, rigEnv } from './e2e';

const run = promisify(execFile);
export const credentials = rigCredentialsDir(rig.layout.dir);
const secretFile = (name: string) => readFileSync(join(credentials, name), 'utf8').trim();

/** The whole of both Temporal databases as pg_dump writes them (bytea as hex). */
export async function databaseDump(): Promise<string> {
  const dumps = await Promise.all(
    ['temporal', 'temporal_visibility'].map(async (db) => {
      const { stdout } = await run(
        '/usr/lib/postgresql/15/bin/pg_dump',
        ['-h', '127.0.0.1', '-p', String(rig.config.production.postgresPort), '-U', 'temporal', '--data-only', db],
        {
          env: { ...process.env, PGPASSWORD: secretFile('postgres-password') },
          maxBuffer: 1024 * 2 ** 20,
        },
      );
      return stdout;
    }),
  );
  return dumps.join('\n');
}

/** Whether a dump holds `text`, as text or as the hex of its UTF-8 bytes (bytea columns). */
export function dumpHolds(dump: string, text: string): boolean {
  return dump.includes(text) || dump.includes(Buffer.from(text).toString('hex'));
}

/** SIGKILLs the production Temporal server, as a crashed node would die. */
export function killTemporalServer(): void {
  const pid = runningPid(temporalServerProcess(rig.layout));
  if (pid === undefined) throw new Error('the production Temporal server is not running');
  process.kill(pid, 'SIGKILL');
}

/** Kills PostgreSQL outright (SIGKILL of its process group: no checkpoint, crash recovery on start). */
export function killPostgres(): void {
  const pid = runningPid(postgresProcess(rig.layout));
  if (pid === undefined) throw new Error('PostgreSQL is not running');
  process.kill(-pid, 'SIGKILL'); // the postmaster and its backends at once, as a machine crash would
}

/** Starts whatever of the production profile's Temporal side is down, as `dev up --profile production` would. */
export async function restartMissing(): Promise<void> {
  await startProductionTemporal(rig.config, rig.layout, () => undefined);
}

/**
 * Every secret of the rig that must never reach a workflow history or a log: the API keys, the codec
 * key and the codec server's token, the database password, private keys, and the clusters' credentials.
 * Long values only (20+ characters), so a match means a leak, not a coincidence.
 */
export function rigSecrets(): { name: string; value: string }[] {
  const secrets = [
    { name: 'admin API key', value: secretFile('api-key') },
    { name: 'Web UI API key', value: secretFile('ui-operator-token') },
    { name: 'codec key', value: secretFile('codec-keys').split(':')[1] },
    { name: 'codec server token', value: secretFile('codec-server-token') },
    { name: 'PostgreSQL password', value: secretFile('postgres-password') },
    // The DNS API key the example's spec.traffic has workers read from their environment.
    { name: 'PowerDNS API key', value: secretFile('powerdns-api-key') },
  ];
  for (const key of ['client.key', 'frontend.key', 'jwt-signing.key']) {
    const body = secretFile(key)
      .split('\n')
      .filter((l) => !l.startsWith('-----'));
    secrets.push({ name: `${key} (private key)`, value: body[1] ?? body[0] });
  }
  const kubeconfig = parse(readFileSync(rig.layout.kubeconfig, 'utf8')) as {
    users?: { name: string; user: Record<string, string> }[];
  };
  for (const user of kubeconfig.users ?? []) {
    const keyData = user.user['client-key-data'];
    const keyFile = user.user['client-key'];
    const pem = keyData
      ? Buffer.from(keyData, 'base64').toString()
      : keyFile && existsSync(keyFile)
        ? readFileSync(keyFile, 'utf8')
        : undefined;
    if (pem)
      secrets.push({
        name: `kube client key of ${user.name}`,
        value: pem.split('\n').filter((l) => l && !l.startsWith('-----'))[1] ?? '',
      });
    if (user.user.token) secrets.push({ name: `kube token of ${user.name}`, value: user.user.token });
  }
  return secrets.filter((s) => s.value && s.value.length >= 20);
}

/** Every file under a folder (logs), recursively. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : statSync(join(dir, e.name)).isFile() ? [join(dir, e.name)] : [],
  );
}

/** Where each secret occurs in `text`: `source: secret name` per hit. */
export function leaks(text: string, source: string, secrets: readonly { name: string; value: string }[]): string[] {
  return secrets.filter((s) => text.includes(s.value)).map((s) => `${source}: ${s.name}`);
}

/** A workflow's history as the `temporal` CLI shows it, payloads decoded through the rig's codec server. */
export async function historyShownByTemporalCli(workflowId: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(
    requireTool('temporal'),
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json'],
    { env: { ...rigEnv(), ...env }, maxBuffer: 256 * 2 ** 20, timeout: 60_000 },
  );
  return stdout;
}

/**
 * A workflow's history as text with every payload decoded by the codec (the rig's key), so that the
 * search sees what a reader with the key would: a secret in a payload is a leak even if encrypted.
 */
export async function decodedHistory(client: Client, workflowId: string, runId?: string): Promise<string> {
  const codec = codecFromEnv(rigEnv());
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const payloads: Payload[] = [];
  const collect = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const v = value as Record<string, unknown>;
    if (v.data instanceof Uint8Array && v.metadata && typeof v.metadata === 'object') payloads.push(v as Payload);
    for (const child of Object.values(v)) collect(child);
  };
  collect(history);
  const decoded = codec ? await codec.decode(payloads) : payloads;
  const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
  const events = JSON.stringify(history, (_key, value: unknown) => (value instanceof Uint8Array ? text(value) : value));
  return `${events}\n${decoded.map((p) => `${JSON.stringify(Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, m]) => [k, text(m)])))} ${text(p.data)}`).join('\n')}`;
}

/** Ids of every workflow in the rig's namespace. */
export async function allWorkflows(client: Client, query?: string): Promise<{ workflowId: string; runId: string }[]> {
  const out: { workflowId: string; runId: string }[] = [];
  for await (const w of client.workflow.list({ query })) out.push({ workflowId: w.workflowId, runId: w.runId });
  return out;
}

/** The worker identities (pid@host) that ran tasks of a workflow, from its history. */
export async function workerIdentities(client: Client, workflowId: string): Promise<Set<string>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ids = new Set<string>();
  for (const e of history.events ?? []) {
    const identity = e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity;
    if (identity) ids.add(identity);
  }
  return ids;
}
