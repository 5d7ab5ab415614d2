import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import { InvalidInputError } from '../../domain/errors';
import type { LoadFigures } from '../../domain/load-report';
import type { RecordedRequest } from '../../domain/recorded-traffic';
import { LatencyHistogram } from './latency-histogram';
import { planReplay } from './replay-requests';

/**
 * Replays recorded requests against an endpoint with autocannon and measures what came back: throughput,
 * error rate, the latency distribution (HDR histogram) and answers by status class.
 *
 * At a fixed rate, autocannon paces each second: every connection sends its share of the second's
 * requests as fast as answers allow, then waits for the next second. So the rate holds per second, the
 * load arrives in bursts at most `connections` deep, and a connection can carry at most 1 s / latency
 * requests a second: a slow endpoint needs more connections to be offered the rate at all. Latency runs
 * from when a request is written, not from when the schedule meant to send it (no coordinated-omission
 * correction): an endpoint that falls behind shows as a throughput short of the rate.
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
  /** Longest to wait for an answer before it counts as failed. Default 10 s, at least 2 s. */
  timeoutMs?: number;
  /** Called about once a second with the requests sent so far, e.g. to heartbeat. A throw stops the test. */
  onProgress?: (sent: number) => void;
  /** Aborting stops the test at once; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Sends `rate` requests a second for `durationMs`: rate x duration requests in all, never more. An
 * endpoint too slow to answer them in time gets the timeout to finish; what is still unanswered then is
 * left out of the figures, and the throughput shows the shortfall.
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

async function replay(options: Omit<LoadTestOptions, 'rate'>, rate: number | undefined): Promise<LoadFigures> {
  const { endpoint, durationMs, timeoutMs = 10_000, onProgress, signal } = options;
  checkOptions(options, timeoutMs);
  signal?.throwIfAborted();
  // At a rate, autocannon shares rate and request budget among connections: each needs at least one of both.
  const total = rate === undefined ? undefined : Math.max(1, Math.round((rate * durationMs) / 1000));
  const connections = Math.min(options.connections ?? 10, rate ?? Infinity, total ?? Infinity);
  const plan = planReplay(options.requests, connections);
  if (plan.replayed === 0)
    throw new InvalidInputError(`nothing to replay against ${endpoint}: ${plan.skipped ?? 'the recording is empty'}`);

  const latency = new LatencyHistogram();
  // Answers by hundreds (index 2 is 2xx): counted as numbers, named once at the end.
  const byClass = [0, 0, 0, 0, 0, 0];
  let sent = 0;
  let failed = 0;
  let nextConnection = 0;
  const startedAt = performance.now();
  let lastAt = startedAt;

  return new Promise<LoadFigures>((resolve, reject) => {
    let stopReason: unknown;
    const stop = (reason: unknown) => {
      stopReason ??= reason;
      instance?.stop();
    };
    const onAbort = () => stop(signal?.reason ?? new Error(`load test against ${endpoint} aborted`));
    const finish = (err: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (err ?? stopReason) reject(err ?? stopReason);
      else resolve(figures());
    };
    const figures = (): LoadFigures => {
      const answered = latency.count;
      const requests = answered + failed;
      const elapsedMs = Math.max(durationMs, lastAt - startedAt);
      const statuses = Object.fromEntries(byClass.flatMap((n, i) => (n > 0 ? [[`${i}xx`, n]] : [])));
      return {
        requests,
        throughputRps: Math.round((answered / (elapsedMs / 1000)) * 100) / 100,
        targetRps: rate ?? 0,
        errorRate: requests === 0 ? 0 : (failed + byClass[5]) / requests,
        latencyMs: latency.figures(),
        statuses,
        transportErrors: failed,
        durationMs: Math.round(elapsedMs),
        ...(plan.skipped ? { skipped: plan.skipped } : {}),
      };
    };

    let instance: autocannon.Instance | undefined;
    try {
      instance = autocannon(
        {
          url: endpoint,
          connections,
          pipelining: 1,
          timeout: timeoutMs / 1000,
          // How often autocannon looks whether to stop: the test ends within 100 ms of its end.
          sampleInt: 100,
          ...(rate === undefined
            ? { duration: durationMs / 1000 }
            : // The budget ends the test; the duration only bounds a test the endpoint cannot keep up with.
              // autocannon's own latency histogram goes unused: its correction would only cost time.
              {
                overallRate: rate,
                maxOverallRequests: total,
                duration: (durationMs + timeoutMs) / 1000,
                ignoreCoordinatedOmission: true,
              }),
          setupClient(client) {
            client.setRequests(plan.perConnection[nextConnection++ % plan.perConnection.length]);
            (client as EventEmitter).on('request', () => sent++);
          },
        },
        (err) => finish(err),
      );
    } catch (err) {
      finish(err);
      return;
    }
    instance.on('response', (_client, status: number, _bytes, ms: number) => {
      latency.record(ms);
      byClass[Math.min(5, Math.max(1, Math.floor(status / 100)))]++; // a status past 599 is the server's fault: 5xx
      lastAt = performance.now();
    });
    // Connection errors and timeouts: requests that got no answer.
    instance.on('reqError', () => {
      failed++;
      lastAt = performance.now();
    });
    instance.on('tick', () => {
      try {
        onProgress?.(sent);
      } catch (err) {
        stop(err);
      }
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function checkOptions(options: Omit<LoadTestOptions, 'rate'>, timeoutMs: number): void {
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
  // autocannon's timer also runs while a connection waits for the next second's share: under 2 s it could fire between two seconds.
  if (timeoutMs < 2000) throw new InvalidInputError(`load test timeout ${timeoutMs}ms is under 2s: give 2s or more`);
}
