/**
 * What a load test measured and what its gates decided. The figures of a release's staging load test
 * travel in its workflow result, where the next release of the same app finds them as its baseline.
 */

/** Latency distribution in milliseconds, from an HDR histogram. */
export interface LatencyFigures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What one load test measured against one endpoint. */
export interface LoadFigures {
  /** Requests sent that were answered or failed; the few still in flight when the test stopped are not counted. */
  requests: number;
  /** Answered requests per second over the test. */
  throughputRps: number;
  /** The rate asked for, requests per second; 0 when the test ran as fast as it could. */
  targetRps: number;
  /** Share of requests that failed: no answer, a timeout, or a 5xx status. */
  errorRate: number;
  /**
   * At a rate: from each request's intended start on the test's even schedule, so that time spent waiting
   * for a busy connection counts (coordinated omission corrected). Unthrottled: from when it was written.
   */
  latencyMs: LatencyFigures;
  /** At a rate: requests written after their intended start because every connection was busy with an earlier one. */
  lateRequests?: number;
  /** At a rate: requests never sent because the test's time (duration plus timeout) ran out while every connection was busy. */
  unsentRequests?: number;
  /** At a rate: latency from when each request was written to its answer, the wait for a connection left out. */
  serviceLatencyMs?: LatencyFigures;
  /** Answers by status class: `2xx`, `3xx`, `4xx`, `5xx`. */
  statuses: Record<string, number>;
  /** Requests with no answer (connection errors and timeouts). */
  transportErrors: number;
  /** From the first request to the last answer, and never less than the duration asked for. */
  durationMs: number;
  /** Recorded requests left out of the replay and why, e.g. HEAD requests, which the generator cannot send. */
  skipped?: string;
}

/** Resource use of the service under load, from Prometheus. */
export interface ResourceUse {
  /** CPU cores used: mean and peak over the test. */
  cpuCores?: { mean: number; max: number };
  /** Memory in bytes: peak over the test. */
  memoryBytes?: { max: number };
  /** Why a figure is missing, when one is. */
  notes: string[];
}

/** The release whose figures a load test is compared with. */
export interface LoadBaseline {
  releaseId: string;
  version: string;
  figures: LoadFigures;
}

/** One gate's verdict, e.g. `p99 412ms > limit 400ms`. */
export interface GateVerdict {
  /** errorRate | p99 | regression p90 | ... */
  gate: string;
  passed: boolean;
  /** In words: what was measured against what limit. */
  detail: string;
}

export interface LoadReport {
  /** Region (environment) the test ran in. */
  environment: string;
  endpoint: string;
  figures: LoadFigures;
  resources?: ResourceUse;
  /** Absent when no earlier successful release of the app ran a load test in this environment. */
  baseline?: LoadBaseline;
  gates: GateVerdict[];
  passed: boolean;
  /** Remarks, e.g. that there was no baseline and only absolute thresholds applied. */
  notes: string[];
}
