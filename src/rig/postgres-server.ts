import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { MissingPrerequisiteError, UnreachableError } from '../domain/errors';
import { type ManagedProcess, isAlive, runningPid, startDetached, stopProcess, tailOf, waitFor } from './processes';
import type { RigLayout } from './rig-config';

const run = promisify(execFile);

/** The production profile's database server: Debian's PostgreSQL, run from a data folder in the rig. */
export interface PostgresTarget {
  /** Port on 127.0.0.1. */
  port: number;
  /** Superuser that Temporal connects as. */
  user: string;
  password: string;
}

/** Major version of Debian's PostgreSQL, as pinned in toolchain/versions.env. */
const postgresMajor = 15;

export function postgresProcess(layout: RigLayout): ManagedProcess {
  return { name: 'postgres', pidFile: join(layout.dir, 'postgres.pid'), logFile: join(layout.logs, 'postgres.log') };
}

function postgresDir(layout: RigLayout) {
  return { data: join(layout.dir, 'postgres', 'data'), socket: join(layout.dir, 'postgres', 'socket') };
}

/** Where Debian keeps the server's programs (they are not on PATH). */
export function postgresBin(program: 'postgres' | 'initdb' | 'pg_isready'): string {
  const path = join('/usr/lib/postgresql', String(postgresMajor), 'bin', program);
  if (!existsSync(path)) {
    throw new MissingPrerequisiteError(
      `missing PostgreSQL ${postgresMajor} (${path}): run \`npm run setup\`, which installs Debian's postgresql-${postgresMajor}`,
    );
  }
  return path;
}

/**
 * PostgreSQL refuses to run as root. As root, the rig runs it in a user namespace of its own where it
 * is an ordinary user: its files stay root's outside, so the rig folder under a private home still works.
 */
function asOrdinaryUser(program: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [program, args];
  return ['unshare', ['--user', '--map-user=1000', '--map-group=1000', program, ...args]];
}

/** Whether the server accepts connections on its port. */
export async function postgresReady(target: PostgresTarget): Promise<boolean> {
  try {
    await run(postgresBin('pg_isready'), ['-h', '127.0.0.1', '-p', String(target.port), '-U', target.user, '-t', '2'], {
      timeout: 5_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** Creates the data folder the first time (superuser and password as given, scram-sha-256 on TCP). */
async function initialise(layout: RigLayout, target: PostgresTarget): Promise<void> {
  const dir = postgresDir(layout);
  if (existsSync(join(dir.data, 'PG_VERSION'))) return;
  rmSync(dir.data, { recursive: true, force: true });
  mkdirSync(dir.socket, { recursive: true });
  const pwfile = join(layout.dir, 'postgres', '.initdb-password');
  writeFileSync(pwfile, `${target.password}\n`, { mode: 0o600 });
  try {
    const [cmd, args] = asOrdinaryUser(postgresBin('initdb'), [
      '-D',
      dir.data,
      '-U',
      target.user,
      `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    await run(cmd, args, { timeout: 120_000 });
  } catch (err) {
    throw new UnreachableError(
      `initdb failed for ${dir.data}: ${((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n').slice(-3).join(' ')}`,
    );
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Starts PostgreSQL unless it runs; the first start creates its data folder. */
export async function startPostgres(
  layout: RigLayout,
  target: PostgresTarget,
): Promise<{ started: boolean; pid: number }> {
  const proc = postgresProcess(layout);
  const existing = runningPid(proc);
  if (existing !== undefined && (await postgresReady(target))) return { started: false, pid: existing };
  if (existing !== undefined) await stopPostgres(layout);
  await initialise(layout, target);
  const dir = postgresDir(layout);
  mkdirSync(dir.socket, { recursive: true });
  const [cmd, args] = asOrdinaryUser(postgresBin('postgres'), [
    '-D',
    dir.data,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `port=${target.port}`,
    '-c',
    `unix_socket_directories=${dir.socket}`,
    '-c',
    'max_connections=200',
    '-c',
    'log_min_messages=warning',
  ]);
  const pid = startDetached(proc, cmd, args);
  const ok = await waitFor(() => postgresReady(target), 60_000, 250);
  if (!ok) {
    const tail = tailOf(proc.logFile);
    await stopPostgres(layout);
    throw new UnreachableError(
      `PostgreSQL did not accept connections on 127.0.0.1:${target.port} within 60s; its log ends:\n${tail}`,
    );
  }
  return { started: true, pid };
}

/**
 * Stops PostgreSQL with a fast shutdown (SIGINT: clients are disconnected, the data is checkpointed);
 * the default SIGTERM would wait for Temporal to hang up first.
 */
export async function stopPostgres(layout: RigLayout): Promise<boolean> {
  const proc = postgresProcess(layout);
  const pid = runningPid(proc);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    /* gone already */
  }
  const deadline = Date.now() + 20_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  return (await stopProcess(proc, 5_000)) || true;
}
