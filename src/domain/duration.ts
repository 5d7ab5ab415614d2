import { quoteExcerpt } from './excerpt';

/**
 * Durations as written in specs and configs: a number and a unit, e.g. `400ms`, `30s`, `30m`, `72h`,
 * `180d`, or a sum such as `1h30m`. Parsed to milliseconds; printed back in the largest exact units.
 */

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof unitMs;

const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

const dayMs = unitMs.d;

/** Longest duration a spec or an option may give (a bake, a soak, a timeout): 30 days. */
export const maxDurationMs = 30 * dayMs;

/**
 * Longest duration handed to a Node timer (a check's timeout, a load test, a copy): Node fires a
 * setTimeout of more than 2^31-1 ms (about 24.8 days) at once, so 24 days.
 */
export const maxTimerMs = 24 * dayMs;

/** Longest look-back over incident history: 10 years. */
export const maxHistoryMs = 3650 * dayMs;

/**
 * Milliseconds of a duration string, or undefined when it is not one. Never a number that is not finite:
 * a duration too large to count in whole milliseconds (hundreds of digits) is not one either.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === '0') return 0;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < trimmed.length) {
    const start = part.lastIndex;
    const match = part.exec(trimmed);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * unitMs[match[2] as Unit];
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

const durationShape = /^\s*(\d+(\.\d+)?(ms|s|m|h|d))+\s*$/;

/**
 * Milliseconds of a duration of at most `maxMs`, or why `text` is not one: the accepted forms, or the
 * bound. The same rules for the spec's fields and the CLI's options.
 */
export function checkDuration(text: string, maxMs: number): number | string {
  const ms = parseDuration(text);
  if (ms === undefined && !durationShape.test(text)) return `${durationHint}, got ${quoteExcerpt(text)}`;
  if (ms === undefined || ms > maxMs)
    return `at most ${formatDuration(maxMs)}${maxMs === maxTimerMs ? ' (the longest a timer can wait)' : ''}: give a shorter duration, got ${quoteExcerpt(text)}`;
  return ms;
}

/** A duration in its shortest exact form, e.g. 5400000 -> `1h30m`, 400 -> `400ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = unitMs[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return sign + out;
}

/** The error text for a value that is not a duration, naming the accepted forms. */
export const durationHint = 'expected a duration such as 400ms, 30s, 30m, 72h, 180d or 1h30m';
