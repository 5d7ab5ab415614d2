import pino, { type Logger } from 'pino';

/** Structured logs on stderr: a fixed message plus fields (release, region, wave). */
export function createLogger(level = process.env.MERIDIAN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'meridian-worker' } }, pino.destination(2));
}
