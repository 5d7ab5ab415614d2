import { spawn } from 'node:child_process';
import type { CheckResult, CommandCheck } from '../../domain/integration-checks';
import { formatDuration } from '../../domain/duration';
import { redactSecrets, tailOf } from './check-environment';

/**
 * Runs a command check: the program runs on the worker, without a shell, with the worker's environment
 * (where credentials live), the check's `env` and the region's MERIDIAN_* variables. Exit code 0 passes.
 */
export async function runCommandCheck(check: CommandCheck, environment: Record<string, string>, signal?: AbortSignal): Promise<CheckResult> {
  const checked = `${check.command.join(' ')} -> exit code 0 within ${formatDuration(check.timeout)}`;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<CheckResult>((resolve) => {
    let output = '';
    let timedOut = false;
    const env = { ...process.env, ...check.env, ...environment };
    // Its own process group, so that a timeout stops whatever it started too (sh -c "a && b").
    const child = spawn(check.command[0], check.command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
      finish(err.code === 'ENOENT' ? `${check.command[0]} is not installed on the worker (not found in PATH)` : `could not start ${check.command[0]}: ${err.message}`),
    );
    child.on('close', (code, killedBy) => {
      if (timedOut) return finish(`still running after ${formatDuration(check.timeout)}; stopped it${output ? `. Output: ${redactSecrets(tailOf(output), env)}` : ''}`);
      if (signal?.aborted) return finish('stopped: the check was cancelled');
      if (code === 0) return finish();
      finish(`${killedBy ? `killed by ${killedBy}` : `exit code ${code}`}${output ? `: ${redactSecrets(tailOf(output), env)}` : ' (no output)'}`);
    });
  });
}
