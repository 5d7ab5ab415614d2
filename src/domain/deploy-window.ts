/**
 * When a region may be deployed: hours of the day and days of the week in the region's own time zone,
 * minus blocked dates (a holiday, a sales event). Pure: the workflow asks it for the next opening and
 * waits for it durably.
 */

export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

export interface DeployWindow {
  /** IANA time zone, e.g. Asia/Seoul. */
  timezone: string;
  /** Minutes after local midnight the window opens and closes; closing before opening spans midnight. */
  from: number;
  to: number;
  /** Days of the week (local) the window opens on. */
  days: Weekday[];
  /** Local dates (YYYY-MM-DD) with no window. */
  blocked: string[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per time zone: making one costs far more than using it, and nextOpening asks often. */
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** The local date, weekday and minute of the day of an instant in a time zone. */
export function localTime(epochMs: number, timezone: string): { date: string; day: Weekday; minute: number } {
  const parts = Object.fromEntries(
    formatterFor(timezone)
      .formatToParts(new Date(epochMs))
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    day: parts.weekday.toLowerCase().slice(0, 3) as Weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

export function isOpen(epochMs: number, w: DeployWindow): boolean {
  const t = localTime(epochMs, w.timezone);
  if (w.blocked.includes(t.date) || !w.days.includes(t.day)) return false;
  return w.from <= w.to ? t.minute >= w.from && t.minute < w.to : t.minute >= w.from || t.minute < w.to;
}

/** The first minute at or after `epochMs` the window is open, looking `horizonDays` ahead; undefined if none. */
export function nextOpening(epochMs: number, w: DeployWindow, horizonDays = 14): number | undefined {
  if (isOpen(epochMs, w)) return epochMs;
  const minute = 60_000;
  const start = Math.ceil(epochMs / minute) * minute;
  for (let t = start; t <= epochMs + horizonDays * 86_400_000; t += minute) if (isOpen(t, w)) return t;
  return undefined;
}

/** `09:00-17:00 Asia/Seoul, mon-fri` in words. */
export function describeWindow(w: DeployWindow): string {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const days = w.days.length === 7 ? 'every day' : w.days.join(',');
  return `${hhmm(w.from)}-${hhmm(w.to)} ${w.timezone}, ${days}${w.blocked.length ? `, not on ${w.blocked.join(', ')}` : ''}`;
}
