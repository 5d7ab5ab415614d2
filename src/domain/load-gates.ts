import type { GateVerdict, LatencyFigures, LoadBaseline, LoadFigures } from './load-report';

/**
 * The gates of a load test: absolute limits (error rate, p99) that always apply, and regression limits
 * against the figures of the last successful release of the app in the same environment, which apply
 * only when there is one. Pure: the caller finds the baseline.
 */

/** What a load test must stay within. Absent limits are not judged. */
export interface LoadThresholds {
  /** Highest acceptable share of failed requests, 0..1. */
  errorRate?: number;
  /** Highest acceptable p99 latency, ms. */
  p99?: number;
  /** Largest acceptable worsening against the baseline, as a fraction: 0.2 allows 20% slower. */
  regression?: Partial<Record<keyof LatencyFigures, number>>;
}

export interface LoadJudgement {
  /** Every gate judged, passed or not. */
  gates: GateVerdict[];
  /** True when every gate passed. */
  passed: boolean;
  /** What was not judged and why, and what to keep in mind when reading the figures. */
  notes: string[];
}

/** The latency figures in the order they are judged and shown. */
const latencyKeys = ['p50', 'p90', 'p99', 'max'] as const;

/** Below this share of the asked rate, the figures describe an endpoint that could not keep up. */
const keptUpShare = 0.9;

/** Judges a load test's figures against its thresholds and, when there is one, its baseline. */
export function judgeLoad(figures: LoadFigures, thresholds: LoadThresholds, baseline?: LoadBaseline): LoadJudgement {
  const gates: GateVerdict[] = [];
  const notes: string[] = [];
  if (figures.requests === 0) {
    // A test that sent nothing must not pass on empty figures.
    gates.push({
      gate: 'requests',
      passed: false,
      detail: 'no request was answered or failed: the load test measured nothing',
    });
  }
  if (thresholds.errorRate !== undefined) {
    gates.push({
      gate: 'errorRate',
      passed: figures.errorRate <= thresholds.errorRate,
      detail: `error rate ${formatPercent(figures.errorRate)}, limit ${formatPercent(thresholds.errorRate)}`,
    });
  }
  if (thresholds.p99 !== undefined) {
    gates.push({
      gate: 'p99',
      passed: figures.latencyMs.p99 <= thresholds.p99,
      detail: `p99 ${formatMs(figures.latencyMs.p99)}, limit ${formatMs(thresholds.p99)}`,
    });
  }
  const regression = latencyKeys.filter((key) => thresholds.regression?.[key] !== undefined);
  if (regression.length > 0 && !baseline) {
    notes.push(
      `no baseline: no earlier successful release of this app ran a load test in this environment at this rate, so the regression limits (${regression.map((k) => `${k} +${formatPercent(thresholds.regression![k]!)}`).join(', ')}) were not applied; only the absolute thresholds were`,
    );
  }
  if (regression.length > 0 && baseline) {
    for (const key of regression) {
      const gate = regressionGate(key, figures.latencyMs[key], baseline, thresholds.regression![key]!);
      if (typeof gate === 'string') notes.push(gate);
      else gates.push(gate);
    }
    if (figures.serviceLatencyMs && !baseline.figures.serviceLatencyMs) {
      notes.push(
        `the baseline ${baseline.version} measured latency from each request's write (before open-model pacing), this test from each request's intended start, which adds any wait for a free connection: compare with that in mind`,
      );
    }
    if (baseline.figures.targetRps !== figures.targetRps) {
      notes.push(
        `the baseline ${baseline.version} ran at ${baseline.figures.targetRps} requests/s and this test at ${figures.targetRps}: latencies are compared across different loads`,
      );
    }
  }
  if (figures.targetRps > 0 && figures.throughputRps < keptUpShare * figures.targetRps) {
    notes.push(
      `the endpoint answered ${round(figures.throughputRps)} of the ${figures.targetRps} requests/s asked: it did not keep up, so the latencies describe a saturated service`,
    );
  }
  if (figures.lateRequests) {
    notes.push(
      `${figures.lateRequests} of ${figures.requests} requests went out after their intended start because every connection was busy with an earlier one; their latency counts the wait (give more connections if the service takes more requests at once)`,
    );
  }
  if (figures.unsentRequests) {
    notes.push(
      `${figures.unsentRequests} requests of the schedule were never sent: every connection was still busy when the test's time ran out`,
    );
  }
  if (figures.skipped) notes.push(figures.skipped);
  if (gates.length === 0)
    notes.push('no load thresholds are set: nothing was judged, the figures are for reading only');
  return { gates, passed: gates.every((g) => g.passed), notes };
}

/** One regression gate, or a note saying why it could not be judged. */
function regressionGate(
  key: (typeof latencyKeys)[number],
  now: number,
  baseline: LoadBaseline,
  limit: number,
): GateVerdict | string {
  const before = baseline.figures.latencyMs[key];
  const gate = `regression ${key}`;
  if (before <= 0) {
    // No ratio to a zero: a baseline whose requests all went unanswered says nothing about latency.
    return `${gate} not judged: the baseline ${baseline.version} recorded ${key} ${formatMs(before)}, so there is nothing to compare with`;
  }
  const change = now / before - 1;
  return {
    gate,
    passed: change <= limit + 1e-9, // not failed by float error exactly at the limit
    detail: `${key} ${formatMs(now)} vs ${formatMs(before)} in ${baseline.version} (${change >= 0 ? '+' : '-'}${formatPercent(Math.abs(change))}), limit +${formatPercent(limit)}`,
  };
}

/** Milliseconds as people read them: `412ms`, `12.5ms`, `0.42ms`. */
export function formatMs(ms: number): string {
  return `${round(ms)}ms`;
}

/** A fraction as a percentage, whole from 10% up: `37%`, `2.5%`, `0.05%`. */
function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${percent >= 10 ? Math.round(percent) : round(percent)}%`;
}

/** Whole from 100 up, three significant digits from 10, two below: 412, 12.5, 2.1, 0.42. */
function round(n: number): number {
  if (n === 0 || !Number.isFinite(n)) return n;
  const abs = Math.abs(n);
  return abs >= 100 ? Math.round(n) : Number(n.toPrecision(abs >= 10 ? 3 : 2));
}
