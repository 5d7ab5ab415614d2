import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export const meridianBin = resolve(__dirname, '..', '..', 'bin', 'meridian');

/** Runs the built `meridian` binary as a user would, and returns its exit code and output. */
export function meridian(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      meridianBin,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 300_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        done({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}
