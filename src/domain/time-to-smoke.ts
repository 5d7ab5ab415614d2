import { formatDuration } from './duration';

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
  /** Rows that could not be used, each with its line number and why. Nothing is dropped silently. */
  problems: string[];
}

/** Parses the incidents CSV: a header naming at least `incident`, `deployed_at`, `detected_at`. */
export function parseIncidentsCsv(text: string): ParsedIncidents {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const missing = ['incident', 'deployed_at', 'detected_at'].filter((name) => col(name) < 0);
  if (missing.length > 0) return { incidents: [], problems: [`line 1: the header lacks ${missing.join(', ')}`] };
  const incidents: Incident[] = [];
  const problems: string[] = [];
  lines.slice(1).forEach((raw, i) => {
    const line = i + 2;
    if (raw.trim() === '') return;
    const cells = splitCsvLine(raw);
    const id = cells[col('incident')]?.trim() || `line ${line}`;
    const deployedAt = Date.parse(cells[col('deployed_at')]?.trim() ?? '');
    const detectedAt = Date.parse(cells[col('detected_at')]?.trim() ?? '');
    if (Number.isNaN(deployedAt)) problems.push(`line ${line} (${id}): deployed_at is not an ISO time`);
    else if (Number.isNaN(detectedAt)) problems.push(`line ${line} (${id}): detected_at is not an ISO time`);
    else if (detectedAt < deployedAt) problems.push(`line ${line} (${id}): detected_at is before deployed_at`);
    else incidents.push({ id, deployedAt, detectedAt, line });
  });
  return { incidents, problems };
}

/** Splits one CSV line, honouring double quotes (a summary may hold commas). */
function splitCsvLine(line: string): string[] {
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
  return cells;
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
  const clamp = clamped === 'floor' ? `, raised to the floor ${formatDuration(ms)}` : clamped === 'ceiling' ? `, lowered to the ceiling ${formatDuration(ms)}` : '';
  return {
    ms,
    used: delays.length,
    method: options.method,
    rawMs,
    clamped,
    derivation: `${how} over ${delays.length} incident${delays.length === 1 ? '' : 's'} in the last ${window} = ${formatDuration(rawMs)}${clamp}`,
  };
}
