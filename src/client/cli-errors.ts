import { ExitCode, MeridianError, InvalidInputError } from '../domain/errors';

/** Usage mistakes: unknown command, missing argument. Exit code 2, nothing started. */
export class UsageError extends InvalidInputError {}

/**
 * The CLI's one error handler: expected failures print their message (and each problem on its own
 * line) with no stack trace; anything else is a bug and keeps its stack.
 */
export function reportError(err: unknown, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (err instanceof MeridianError) {
    write(`error: ${err.message}\n`);
    if (err instanceof InvalidInputError) for (const p of err.problems) write(`  ${p}\n`);
    return err.exitCode;
  }
  if (isConnectionError(err)) {
    write(`error: cannot reach Temporal: ${(err as Error).message}\n  start the local rig with \`meridian dev up\`, or set TEMPORAL_ADDRESS\n`);
    return ExitCode.unreachable;
  }
  write(`${(err as Error)?.stack ?? String(err)}\n`);
  return 70;
}

function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number } | undefined;
  if (!e) return false;
  return (
    e.name === 'TransportError' ||
    e.code === 14 ||
    /ECONNREFUSED|Failed to connect|connection refused|UNAVAILABLE/i.test(e.message ?? '')
  );
}
