import { spawn } from 'node:child_process';
import type { CheckResult, CommandCheck } from '../../domain/integration-checks';
import { formatDuration } from '../../domain/duration';
import { commandEnvironment, scrubSecrets, tailOf, type WorkerSecret, workerSecrets } from './check-environment';

/** What a command check runs with besides the check and the region's variables. */
export interface CommandCheckOptions {
  /** The worker's environment, from which the command gets only what commandEnvironment lets through; process.env by default. */
  workerEnv?: Record<string, string | undefined>;
  /** Values masked in the output the result quotes; by default workerSecrets(workerEnv). */
  secrets?: readonly WorkerSecret[];
  signal?: AbortSignal;
}

/**
 * Runs a command check: the program runs on the worker, without a shell, with a small explicit
 * environment (commandEnvironment: PATH, HOME and the locale, the worker variables the check names in
 * passEnv, the check's `env` and the region's MERIDIAN_* variables), never the worker's whole one.
 * Exit code 0 passes. Output quoted in a failure is scrubbed of the worker's secrets and of the values
 * passed to it, in any of the forms scrubSecrets knows.
 */
export async function runCommandCheck(
  check: CommandCheck,
  environment: Record<string, string>,
  options: CommandCheckOptions = {},
): Promise<CheckResult> {
  const { signal } = options;
  const workerEnv = options.workerEnv ?? process.env;
  const env = commandEnvironment(workerEnv, check, environment);
  const passed = check.passEnv.flatMap((name) => (workerEnv[name] ? [{ name, value: workerEnv[name] }] : []));
  const secrets = [...(options.secrets ?? workerSecrets(workerEnv)), ...passed];
  // Scrubbed before it is cut, so that the cut never leaves part of a secret at the start of the tail.
  const quoted = (output: string) => tailOf(scrubSecrets(output, secrets));
  const checked = `${check.command.join(' ')} -> exit code 0 within ${formatDuration(check.timeout)}`;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<CheckResult>((resolve) => {
    let output = '';
    let timedOut = false;
    // Its own process group, so that a timeout stops whatever it started too (sh -c "a && b").
    const child = spawn(check.command[0], check.command.slice(1), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4096);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const stop = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      // A grandchild that escaped the group may hold the pipes open: stop reading them.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, check.timeout);
    signal?.addEventListener('abort', stop, { once: true });
    const finish = (failure?: string) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve({ name: check.name, passed: failure === undefined, checked, failure, latencyMs: elapsed() });
    };
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish(
        err.code === 'ENOENT'
          ? `${check.command[0]} is not installed on the worker (not found in PATH)`
          : `could not start ${check.command[0]}: ${err.message}`,
      ),
    );
    child.on('close', (code, killedBy) => {
      if (timedOut)
        return finish(
          `still running after ${formatDuration(check.timeout)}; stopped it${output ? `. Output: ${quoted(output)}` : ''}`,
        );
      if (signal?.aborted) return finish('stopped: the check was cancelled');
      if (code === 0) return finish();
      finish(
        `${killedBy ? `killed by ${killedBy}` : `exit code ${code}`}${output ? `: ${quoted(output)}` : ' (no output)'}`,
      );
    });
  });
}
