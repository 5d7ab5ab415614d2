import { ExitCode, MeridianError, InvalidInputError } from '../domain/errors';
import { loadTemporalConnectionConfig } from '../temporal/connection-config';
import { explainTemporalFailure, isCredentialRefused, isTlsFailure } from '../temporal/connection-errors';

/** Usage mistakes: unknown command, missing argument. Exit code 2, nothing started. */
export class UsageError extends InvalidInputError {}

/**
 * The CLI's one error handler: expected failures print their message (and each problem on its own
 * line) with no stack trace; anything else is a bug and keeps its stack. A refused credential or a
 * failed TLS handshake from any call to Temporal (not only the first) names the credential (exit 2);
 * an unreachable server says what to do (exit 3).
 */
export function reportError(
  err: unknown,
  write: (text: string) => void = (t) => process.stderr.write(t),
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (err instanceof MeridianError) {
    write(`error: ${printable(err.message)}\n`);
    if (err instanceof InvalidInputError) {
      for (const p of err.problems.slice(0, maxProblemsPrinted)) write(`  ${printable(p)}\n`);
      if (err.problems.length > maxProblemsPrinted)
        write(`  and ${err.problems.length - maxProblemsPrinted} more problems\n`);
    }
    return err.exitCode;
  }
  if (isConnectionError(err) || isCredentialRefused(err) || (isGrpcError(err) && isTlsFailure(err))) {
    let explained: MeridianError | undefined;
    try {
      explained = explainTemporalFailure(err, loadTemporalConnectionConfig(env));
    } catch {
      // The config itself is broken; the command would have said so before calling Temporal.
    }
    if (explained) return reportError(explained, write, env);
    if (isConnectionError(err)) {
      write(
        `error: cannot reach Temporal: ${firstLine(err)}\n  start the local rig with \`meridian dev up\`, or set TEMPORAL_ADDRESS\n`,
      );
      return ExitCode.unreachable;
    }
  }
  write(`${(err as Error)?.stack ?? String(err)}\n`);
  return 70;
}

/** Most problems of one error printed: enough to fix a file in one pass, never a flood from a runaway input. */
const maxProblemsPrinted = 200;

/** Longest line of an error printed: messages quote input as excerpts, and this bounds any that does not. */
const maxLineChars = 2000;

/**
 * A message or warning as printed: control characters (a terminal escape, a carriage return that rewrites the line)
 * escaped, since a message may carry input; each line cut at maxLineChars.
 */
export function printable(message: string): string {
  return message
    .split('\n')
    .map((line) => {
      const shown = line.replace(
        /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
      return shown.length > maxLineChars ? `${shown.slice(0, maxLineChars)}… (${shown.length} characters)` : shown;
    })
    .join('\n');
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

/** A gRPC status error, directly or as the cause of the client's ServiceError. */
function isGrpcError(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return typeof e?.code === 'number' || typeof e?.cause?.code === 'number' || (err as Error)?.name === 'TransportError';
}

function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number; cause?: { code?: number } } | undefined;
  if (!e) return false;
  return (
    e.name === 'TransportError' ||
    e.code === 14 ||
    e.cause?.code === 14 ||
    /ECONNREFUSED|Failed to connect|connection refused|UNAVAILABLE/i.test(e.message ?? '')
  );
}
