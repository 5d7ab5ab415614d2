/**
 * Durations as written in specs and configs: a number and a unit, e.g. `400ms`, `30s`, `30m`, `72h`,
 * `180d`, or a sum such as `1h30m`. Parsed to milliseconds; printed back in the largest exact units.
 */

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof unitMs;

const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '' ) return undefined;
  if (trimmed === '0') return 0;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < trimmed.length) {
    const start = part.lastIndex;
    const match = part.exec(trimmed);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * unitMs[match[2] as Unit];
  }
  return Math.round(total);
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
