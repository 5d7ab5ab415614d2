import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Stops a child this process spawned: SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A long-running rig process, known by the pid file it leaves behind. */
export interface ManagedProcess {
  /** Short name used in messages and file names, e.g. `temporal`. */
  name: string;
  /** File holding the process id while it runs. */
  pidFile: string;
  /** File receiving its stdout and stderr. */
  logFile: string;
}

/** The pid of a running managed process, or undefined (a stale pid file is removed). */
export function runningPid(proc: ManagedProcess): number | undefined {
  if (!existsSync(proc.pidFile)) return undefined;
  const pid = Number(readFileSync(proc.pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid;
  rmSync(proc.pidFile, { force: true });
  return undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Starts a detached process in its own process group, so that it outlives the CLI and `stop` can end
 * it together with any children it spawned.
 */
export function startDetached(
  proc: ManagedProcess,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): number {
  mkdirSync(dirname(proc.pidFile), { recursive: true });
  mkdirSync(dirname(proc.logFile), { recursive: true });
  const log = openSync(proc.logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${proc.name} (${command})`);
    child.unref();
    writeFileSync(proc.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Ends a managed process and its group: SIGTERM, then SIGKILL after the grace period. */
export async function stopProcess(proc: ManagedProcess, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(proc);
  if (pid === undefined) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  // Children that ignored the group signal would be orphans: end them too.
  signalGroup(pid, 'SIGKILL');
  rmSync(proc.pidFile, { force: true });
  return true;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Polls until `ready` resolves true or the deadline passes; returns whether it became ready. */
export async function waitFor(ready: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** The last lines of a log file, for error messages. */
export function tailOf(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** A file's text, or undefined when it cannot be read. */
export function readTextOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
