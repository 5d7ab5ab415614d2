import { formatDuration } from './duration';
import { quoteExcerpt } from './excerpt';

/**
 * Time-to-smoke: how long a bad change took to show in the past, and so how long to bake before the
 * next wave. Computed from an incident history (when the change was deployed, when the problem was
 * detected). Pure: the caller reads the file and passes the release's start time.
 */

/** One incident of the history. */
export interface Incident {
  id: string;
  deployedAt: number;
  detectedAt: number;
  /** Line of the CSV it came from. */
  line: number;
}

export interface ParsedIncidents {
  incidents: Incident[];
  /** What makes the history unusable as written, each with its line number and the fix: a release is refused. */
  problems: string[];
  /** What a person should know but that does not stop a release (a history with no rows), with line numbers. */
  warnings: string[];
}

/** The form every time of the history takes: ISO 8601 with a zone. */
export const incidentTimeExample = '2026-03-01T12:00:00Z';

/** Most problems listed for one history; the rest are counted. */
const maxListedProblems = 20;

/**
 * Parses the incidents CSV: a header naming at least `incident`, `deployed_at`, `detected_at`, then
 * one incident a line. Lines end in LF, CRLF or CR (old Mac); a leading byte-order mark is ignored;
 * blank lines are skipped. Times are ISO 8601 with a zone (Z or an offset): a time without one would
 * be read in whatever zone the machine is in, so it is refused. Nothing is dropped silently: a row
 * that cannot be used is a problem naming its line, and a history that yields no incident is a warning.
 */
export function parseIncidentsCsv(text: string): ParsedIncidents {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const header = splitCsvLine(lines[0] ?? '').cells.map((h) => h.trim().toLowerCase());
  const required = ['incident', 'deployed_at', 'detected_at'];
  const missing = required.filter((name) => !header.includes(name));
  // The header is never quoted (the file may be one named by mistake), but a likely cause is named.
  if (missing.length > 0)
    return {
      incidents: [],
      problems: [`line 1: the header lacks ${missing.join(', ')}${headerHint(lines[0] ?? '')}`],
      warnings: [],
    };
  const twice = required.filter((name) => header.indexOf(name) !== header.lastIndexOf(name));
  if (twice.length > 0)
    return {
      incidents: [],
      problems: [`line 1: the header names ${twice.join(', ')} more than once: keep one column of each`],
      warnings: [],
    };
  const col = (name: string) => header.indexOf(name);
  const incidents: Incident[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  const firstLineOf = new Map<string, number>();
  let unlisted = 0;
  const problem = (message: string) => {
    if (problems.length < maxListedProblems) problems.push(message);
    else unlisted += 1;
  };
  // Warnings of incidents listed twice are listed like problems, so a history of copies cannot flood plan's output.
  let duplicates = 0;
  lines.slice(1).forEach((raw, i) => {
    const line = i + 2;
    if (raw.trim() === '') return;
    const { cells, unclosedQuote } = splitCsvLine(raw);
    const id = cells[col('incident')]?.trim() || `line ${line}`;
    const at = `line ${line} (${/^[\w.:#/-]{1,40}$/.test(id) ? id : quoteExcerpt(id, 40)})`;
    if (unclosedQuote) {
      problem(
        `${at}: a quoted cell does not close on this line: close its quote ("), write a quote inside a cell as "", and keep each incident on one line`,
      );
      return;
    }
    const deployedAt = parseIncidentTime(cells[col('deployed_at')]);
    const detectedAt = parseIncidentTime(cells[col('detected_at')]);
    if (typeof deployedAt === 'string') problem(`${at}: deployed_at ${deployedAt}`);
    else if (typeof detectedAt === 'string') problem(`${at}: detected_at ${detectedAt}`);
    else if (detectedAt < deployedAt) problem(`${at}: detected_at is before deployed_at`);
    else {
      const seen = firstLineOf.get(id);
      if (seen === undefined) firstLineOf.set(id, line);
      else if ((duplicates += 1) <= maxListedProblems)
        warnings.push(
          `${at}: incident ${quoteExcerpt(id, 40)} is also on line ${seen}, so it counts twice: remove one of them if it is the same incident`,
        );
      incidents.push({ id, deployedAt, detectedAt, line });
    }
  });
  if (unlisted > 0) problems.push(`and ${unlisted} more row${unlisted === 1 ? '' : 's'} that cannot be used`);
  if (duplicates > maxListedProblems)
    warnings.push(
      `and ${duplicates - maxListedProblems} more incident${duplicates - maxListedProblems === 1 ? '' : 's'} listed twice`,
    );
  if (incidents.length === 0 && problems.length === 0) {
    warnings.push(
      'no incident below the header: time-to-smoke has nothing to learn from, so every bake is the floor; add incidents, or name no incidents file',
    );
  }
  return { incidents, problems, warnings };
}

/** Why a header may lack its columns, when the first line tells: another encoding or another separator. */
function headerHint(first: string): string {
  if (/^\uFFFD\uFFFD|\u0000/.test(first))
    return ': the file looks like UTF-16 or binary, not CSV; save the history as UTF-8 CSV';
  if (!first.includes(',') && /[;\t]/.test(first))
    return ': its columns are separated by semicolons or tabs; separate them by commas';
  return '';
}

/**
 * A time of the history in milliseconds, or why it is not one (to follow the column's name). Only ISO
 * 8601 with a zone: date, `T`, hours and minutes (seconds and a fraction optional), then `Z` or an
 * offset such as `+09:00`; and only times that exist in the calendar (no February 30).
 */
export function parseIncidentTime(cell: string | undefined): number | string {
  const text = (cell ?? '').trim();
  const expected = `write it as ${incidentTimeExample} (date, T, time, then Z for UTC or an offset such as +09:00)`;
  if (text === '') return `is empty: ${expected}`;
  const match =
    /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!match) return `${quoteExcerpt(text)} is not an ISO 8601 time: ${expected}`;
  const [, year, month, day, hour, minute, second = '00', fraction = '', zone] = match;
  if (!zone)
    return `${quoteExcerpt(text)} has no time zone, so it would be read in this machine's local time: add Z for UTC or the offset it was written in, e.g. ${text}Z or ${text}+09:00`;
  const daysInMonth = new Date(Date.UTC(2000 + (Number(year) % 400), Number(month), 0)).getUTCDate();
  const offsetOk = zone.length === 1 || (Number(zone.slice(1, 3)) <= 23 && Number(zone.slice(4)) <= 59);
  if (
    Number(month) < 1 ||
    Number(month) > 12 ||
    Number(day) < 1 ||
    Number(day) > daysInMonth ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    !offsetOk
  ) {
    return `${quoteExcerpt(text)} is not a time of the calendar: ${expected}`;
  }
  // Rewritten in the one form ECMAScript defines exactly (milliseconds, upper-case zone).
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  return Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${zone.toUpperCase()}`);
}

/** Splits one CSV line, honouring double quotes (a summary may hold commas); says whether a quote stays open. */
function splitCsvLine(line: string): { cells: string[]; unclosedQuote: boolean } {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return { cells, unclosedQuote: quoted };
}

export interface TimeToSmokeOptions {
  method: 'twice-mean' | 'percentile';
  /** Percentile for the percentile method, (0, 100]. */
  percentile: number;
  /** Only incidents deployed within this long before `now` count. */
  windowMs: number;
  floorMs: number;
  ceilingMs: number;
  /** The release's start time. */
  now: number;
}

/** The bake time and how it was derived, for the plan to show. */
export interface TimeToSmoke {
  ms: number;
  /** Incidents inside the window that were used. */
  used: number;
  /** twice-mean, percentile, or default when no incident was usable. */
  method: 'twice-mean' | 'percentile' | 'default';
  /** The figure before clamping. */
  rawMs?: number;
  clamped?: 'floor' | 'ceiling';
  /** In words, e.g. "2 x mean detection delay 1h1m (8 incidents in 180d) = 2h2m". */
  derivation: string;
}

/**
 * twice-mean: twice the mean detection delay. percentile: the nearest-rank percentile of the delays
 * (the smallest delay such that at least p% of delays are at or below it). Clamped to [floor,
 * ceiling]. With no usable incident, the floor is used and the derivation says so.
 */
export function computeTimeToSmoke(incidents: readonly Incident[], options: TimeToSmokeOptions): TimeToSmoke {
  const windowStart = options.now - options.windowMs;
  const delays = incidents
    .filter((i) => i.deployedAt >= windowStart && i.deployedAt <= options.now)
    .map((i) => i.detectedAt - i.deployedAt)
    .sort((a, b) => a - b);
  const window = formatDuration(options.windowMs);
  if (delays.length === 0) {
    return {
      ms: options.floorMs,
      used: 0,
      method: 'default',
      derivation: `no incident in the last ${window}: the floor ${formatDuration(options.floorMs)}`,
    };
  }
  let rawMs: number;
  let how: string;
  if (options.method === 'twice-mean') {
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    rawMs = 2 * mean;
    how = `2 x mean detection delay ${formatDuration(Math.round(mean))}`;
  } else {
    const rank = Math.max(1, Math.ceil((options.percentile / 100) * delays.length));
    rawMs = delays[rank - 1];
    how = `p${options.percentile} detection delay (nearest rank ${rank} of ${delays.length})`;
  }
  rawMs = Math.round(rawMs);
  const ms = Math.min(options.ceilingMs, Math.max(options.floorMs, rawMs));
  const clamped = ms === rawMs ? undefined : ms === options.floorMs ? 'floor' : 'ceiling';
  const clamp =
    clamped === 'floor'
      ? `, raised to the floor ${formatDuration(ms)}`
      : clamped === 'ceiling'
        ? `, lowered to the ceiling ${formatDuration(ms)}`
        : '';
  return {
    ms,
    used: delays.length,
    method: options.method,
    rawMs,
    clamped,
    derivation: `${how} over ${delays.length} incident${delays.length === 1 ? '' : 's'} in the last ${window} = ${formatDuration(rawMs)}${clamp}`,
  };
}
