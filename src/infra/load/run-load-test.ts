import { isIP } from 'node:net';
import { InvalidInputError } from '../../domain/errors';
import type { LoadFigures } from '../../domain/load-report';
import type { RecordedRequest } from '../../domain/recorded-traffic';
import { LatencyHistogram } from './latency-histogram';
import { type ConnectionEvents, LoadConnection, type LoadTarget } from './load-connection';
import { PacingSchedule } from './pacing-schedule';
import { planReplay } from './replay-requests';

/**
 * Replays recorded requests against an endpoint and measures what came back: throughput, error rate, the
 * latency distribution (HDR histogram) and answers by status class.
 *
 * At a rate the test is open-model: request i is meant to start i / rate seconds in, evenly spaced,
 * whether or not earlier ones were answered (pacing-schedule.ts). It goes out on a free keep-alive
 * connection at that time; when every connection is busy it waits for the first to free up and counts as
 * late. Latency runs from the intended start, so the wait is in it (coordinated omission corrected), and
 * the time from the write to the answer is reported beside it. Without a rate, each connection sends its
 * next request as soon as the last is answered: the generator's own ceiling, for the benchmark.
 */

export interface LoadTestOptions {
  /** Base URL of the service; each recorded path replaces its path, as in the HTTP checks. */
  endpoint: string;
  /** Sent in the recording's order, cycling when the recording is shorter than the test. */
  requests: readonly RecordedRequest[];
  /** Requests per second over all connections: a whole number, at least 1. */
  rate: number;
  /** How long to send requests. */
  durationMs: number;
  /** Connections kept open, each with one request in flight. Default 10; never more than the rate. */
  connections?: number;
  /** Longest to wait for an answer, from the write, before it counts as failed. Default 10 s, at least 2 s. */
  timeoutMs?: number;
  /** Called about once a second with the requests sent so far, e.g. to heartbeat. A throw stops the test. */
  onProgress?: (sent: number) => void;
  /** Aborting stops the test at once; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Sends `rate` requests a second for `durationMs`, evenly spaced: rate x duration requests in all, never
 * more. An endpoint too slow to answer them in time gets the timeout beyond the duration: requests still
 * waiting for a connection then are never sent (counted as unsent), those in flight are left out, and
 * the throughput shows the shortfall.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadFigures> {
  if (!Number.isInteger(options.rate) || options.rate < 1) {
    throw new InvalidInputError(
      `load test rate ${options.rate} is not a whole number of requests per second: give 1 or more, such as 50`,
    );
  }
  return replay(options, options.rate);
}

/** As fast as the connections go, for `durationMs`: the generator's own ceiling, for the benchmark. */
export function runUnthrottledLoadTest(options: Omit<LoadTestOptions, 'rate'>): Promise<LoadFigures> {
  return replay(options, undefined);
}

/** How often timeouts, the end of an unthrottled test and progress are looked at. */
const sweepMs = 100;

async function replay(options: Omit<LoadTestOptions, 'rate'>, rate: number | undefined): Promise<LoadFigures> {
  const { timeoutMs = 10_000 } = options;
  const url = checkOptions(options, timeoutMs);
  options.signal?.throwIfAborted();
  const schedule = rate === undefined ? undefined : PacingSchedule.forDuration(rate, options.durationMs);
  const connections = Math.min(options.connections ?? 10, rate ?? Infinity, schedule?.total ?? Infinity);
  const plan = planReplay(options.requests, url.host);
  if (plan.replayed === 0)
    throw new InvalidInputError(
      `nothing to replay against ${options.endpoint}: ${plan.skipped ?? 'the recording is empty'}`,
    );
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const target: LoadTarget = {
    host,
    port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
    tls: url.protocol === 'https:',
    ...(isIP(host) ? {} : { servername: host }),
  };
  return new LoadRun(options, timeoutMs, schedule, connections, plan.requests, target, plan.skipped).run();
}

/** One test from its first connection to its figures. */
class LoadRun implements ConnectionEvents {
  /** From the intended start at a rate, from the write when unthrottled. */
  private readonly latency = new LatencyHistogram();
  /** From the write, at a rate. */
  private readonly service = new LatencyHistogram();
  /** Answers by hundreds (index 2 is 2xx): counted as numbers, named once at the end. */
  private readonly byClass = [0, 0, 0, 0, 0, 0];
  private readonly conns: LoadConnection[];
  /** Connections with no request in flight, the one idle longest first. */
  private readonly free: LoadConnection[] = [];
  private unanswered = 0;
  private late = 0;
  /** Requests written; also the index of the next one. */
  private sent = 0;
  private startedAt = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private settle: (err: unknown) => void = () => {};

  constructor(
    private readonly options: Omit<LoadTestOptions, 'rate'>,
    private readonly timeoutMs: number,
    private readonly schedule: PacingSchedule | undefined,
    connections: number,
    private readonly requests: Buffer[],
    target: LoadTarget,
    private readonly skipped: string | undefined,
  ) {
    const readBuffer = Buffer.allocUnsafe(64 * 1024);
    this.conns = Array.from({ length: connections }, () => new LoadConnection(target, readBuffer, this));
  }

  async run(): Promise<LoadFigures> {
    const { signal } = this.options;
    // Connected ahead, so that the first requests do not pay for it; one that cannot connect fails its requests.
    const opening = new AbortController();
    await Promise.race([
      Promise.all(this.conns.map((c) => c.open())),
      sleep(this.timeoutMs),
      aborted(AbortSignal.any([opening.signal, ...(signal ? [signal] : [])])),
    ]);
    opening.abort();
    if (signal?.aborted) {
      this.conns.forEach((c) => c.close());
      signal.throwIfAborted();
    }
    this.free.push(...this.conns);
    this.startedAt = performance.now();
    this.lastAt = this.startedAt;
    return new Promise<LoadFigures>((resolve, reject) => {
      const onAbort = () =>
        this.stop(signal?.reason ?? new Error(`load test against ${this.options.endpoint} aborted`));
      let ticks = 0;
      const sweep = setInterval(() => {
        const now = performance.now();
        for (const c of this.conns) if (c.request !== -1 && now - c.sentAt > this.timeoutMs) c.abandon();
        // Unthrottled, the test ends on time; at a rate, an endpoint that cannot keep up gets the timeout
        // beyond the duration, and what the schedule still holds then is never sent.
        const endsAt = this.options.durationMs + (this.schedule ? this.timeoutMs : 0);
        if (now - this.startedAt >= endsAt) this.stop(undefined);
        if (++ticks % (1000 / sweepMs) === 0 && !this.stopped) {
          try {
            this.options.onProgress?.(this.sent);
          } catch (err) {
            this.stop(err);
          }
        }
      }, sweepMs);
      this.settle = (err) => {
        clearInterval(sweep);
        clearTimeout(this.timer);
        signal?.removeEventListener('abort', onAbort);
        this.conns.forEach((c) => c.close());
        if (err) reject(err);
        else resolve(this.figures());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pump(false);
    });
  }

  answered(conn: LoadConnection, request: number, status: number, sentAt: number, at: number): void {
    if (this.stopped) return;
    if (this.schedule) {
      this.latency.record(this.schedule.latencyMs(request, at - this.startedAt));
      this.service.record(at - sentAt);
    } else this.latency.record(at - sentAt);
    this.byClass[Math.min(5, Math.max(1, Math.floor(status / 100)))]++; // a status past 599 is the server's fault: 5xx
    this.freed(conn, at);
  }

  failed(conn: LoadConnection, _request: number, at: number): void {
    if (this.stopped) return;
    this.unanswered++;
    this.freed(conn, at);
  }

  private freed(conn: LoadConnection, at: number): void {
    this.lastAt = at;
    if (this.schedule && this.latency.count + this.unanswered === this.schedule.total) {
      this.stop(undefined);
      return;
    }
    // Every connection was busy: a request that fell due meanwhile waited for this one.
    const starved = this.free.length === 0;
    this.free.push(conn);
    this.pump(starved);
  }

  /** Sends what is due on the free connections; `starved`: what is due waited for a connection. */
  private pump(starved: boolean): void {
    if (this.stopped) return;
    const { schedule, free, requests } = this;
    if (!schedule) {
      while (free.length > 0) this.send(free.pop()!, requests);
      return;
    }
    const now = performance.now();
    const due = schedule.dueBy(now - this.startedAt);
    while (this.sent < due && free.length > 0) {
      if (starved) this.late++;
      // The connection idle longest: at a rate each is used every connections/rate s (at most about 1 s),
      // well within servers' keep-alive timeouts, where the last one freed would leave others idle for long.
      this.send(free.shift()!, requests);
    }
    if (this.timer === undefined && this.sent < schedule.total && free.length > 0) {
      const wait = this.startedAt + schedule.startMs(this.sent) - now;
      this.timer = setTimeout(this.onTimer, Math.max(0, wait));
    }
  }

  private readonly onTimer = () => {
    this.timer = undefined;
    this.pump(false);
  };

  private send(conn: LoadConnection, requests: Buffer[]): void {
    const i = this.sent++;
    conn.send(requests[i % requests.length], i);
  }

  private stop(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.settle(err);
  }

  private figures(): LoadFigures {
    const answered = this.latency.count;
    const requests = answered + this.unanswered;
    const elapsedMs = Math.max(this.options.durationMs, this.lastAt - this.startedAt);
    const statuses = Object.fromEntries(this.byClass.flatMap((n, i) => (n > 0 ? [[`${i}xx`, n]] : [])));
    return {
      requests,
      throughputRps: Math.round((answered / (elapsedMs / 1000)) * 100) / 100,
      targetRps: this.schedule?.rate ?? 0,
      errorRate: requests === 0 ? 0 : (this.unanswered + this.byClass[5]) / requests,
      latencyMs: this.latency.figures(),
      ...(this.schedule ? { lateRequests: this.late, serviceLatencyMs: this.service.figures() } : {}),
      ...(this.schedule && this.sent < this.schedule.total ? { unsentRequests: this.schedule.total - this.sent } : {}),
      statuses,
      transportErrors: this.unanswered,
      durationMs: Math.round(elapsedMs),
      ...(this.skipped ? { skipped: this.skipped } : {}),
    };
  }
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** Resolves when the signal aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

function checkOptions(options: Omit<LoadTestOptions, 'rate'>, timeoutMs: number): URL {
  let url: URL | undefined;
  try {
    url = new URL(options.endpoint);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol))
    throw new InvalidInputError(
      `load test endpoint ${JSON.stringify(options.endpoint)} is not an http(s) URL: give one such as http://shop-api.staging:8080`,
    );
  if (!(options.durationMs > 0))
    throw new InvalidInputError(`load test duration ${options.durationMs}ms is not positive: give one such as 30s`);
  if (options.connections !== undefined && (!Number.isInteger(options.connections) || options.connections < 1)) {
    throw new InvalidInputError(`load test connections ${options.connections} is not a whole number of 1 or more`);
  }
  // Timeouts are looked at every 100 ms and must stand well above a slow answer's tail.
  if (timeoutMs < 2000) throw new InvalidInputError(`load test timeout ${timeoutMs}ms is under 2s: give 2s or more`);
  return url;
}
