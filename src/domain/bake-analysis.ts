import type { AnalysisSpec, comparisonOperators } from './release-spec';

/**
 * Health analysis while a region bakes: measurements taken on an interval (HTTP probes of the endpoint,
 * Prometheus queries with conditions), tallied as they come. The tally is all the workflow keeps: a
 * bake of hours stays a handful of numbers and the last measurement, never a list of samples.
 */

export type Comparison = { op: (typeof comparisonOperators)[number]; value: number };

export type MeasurementOutcome = 'passed' | 'failed' | 'inconclusive';

/** One probe's or one query's reading in a measurement. */
export interface Reading {
  name: string;
  outcome: MeasurementOutcome;
  /** The value read: a latency in ms for a probe, the query's result for a metric. */
  value?: number;
  /** In words, e.g. `error-rate 0.31, fails when > 0.05` or `GET /healthz answered 500`. */
  detail: string;
}

export interface Measurement {
  /** When it was taken (ISO). */
  at: string;
  outcome: MeasurementOutcome;
  readings: Reading[];
}

export type AnalysisVerdict = 'running' | 'passed' | 'failed' | 'inconclusive';

/** What a bake's analysis has seen so far. */
export interface AnalysisTally {
  measurements: number;
  passed: number;
  failed: number;
  inconclusive: number;
  verdict: AnalysisVerdict;
  /** Why the verdict is what it is, once it is not running. */
  reason?: string;
  /** The most recent measurement. */
  last?: Measurement;
  /** The first failing (or, failing none, inconclusive) measurement that decided the verdict. */
  deciding?: Measurement;
  /** Requests the region served during the bake, when spec.validation.analysis.minRequests asks. */
  requests?: number;
}

export const emptyTally: AnalysisTally = { measurements: 0, passed: 0, failed: 0, inconclusive: 0, verdict: 'running' };

export function meets(value: number, condition: Comparison): boolean {
  switch (condition.op) {
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
    case '==':
      return value === condition.value;
    case '!=':
      return value !== condition.value;
  }
}

export function describeComparison(condition: Comparison): string {
  return `${condition.op} ${condition.value}`;
}

/** A metric's outcome: passing, failing, or (no data, or between the two conditions) inconclusive. */
export function judgeMetric(value: number | undefined, pass: Comparison, fail?: Comparison): MeasurementOutcome {
  if (value === undefined || Number.isNaN(value)) return 'inconclusive';
  if (fail && meets(value, fail)) return 'failed';
  if (meets(value, pass)) return 'passed';
  return fail ? 'inconclusive' : 'failed';
}

/** A measurement fails if any reading fails; otherwise it is inconclusive if any reading is. */
export function combineReadings(readings: readonly Reading[]): MeasurementOutcome {
  if (readings.some((r) => r.outcome === 'failed')) return 'failed';
  if (readings.some((r) => r.outcome === 'inconclusive')) return 'inconclusive';
  return 'passed';
}

type Limits = Pick<AnalysisSpec, 'failureLimit' | 'inconclusiveLimit'>;

/** Adds one measurement. More failures than failureLimit fail the analysis at once; more inconclusive ones than inconclusiveLimit make it inconclusive. */
export function addMeasurement(tally: AnalysisTally, m: Measurement, limits: Limits): AnalysisTally {
  if (tally.verdict !== 'running') return tally;
  const next: AnalysisTally = {
    ...tally,
    measurements: tally.measurements + 1,
    [m.outcome]: tally[m.outcome] + 1,
    last: m,
  };
  if (next.failed > limits.failureLimit) {
    return {
      ...next,
      verdict: 'failed',
      deciding: m,
      reason: `${next.failed} failed measurement${next.failed === 1 ? '' : 's'} (limit ${limits.failureLimit}): ${failingDetail(m)}`,
    };
  }
  if (next.inconclusive > limits.inconclusiveLimit) {
    return {
      ...next,
      verdict: 'inconclusive',
      deciding: m,
      reason: `${next.inconclusive} inconclusive measurements (limit ${limits.inconclusiveLimit}): ${failingDetail(m)}`,
    };
  }
  return next;
}

/** At the end of the bake: enough conclusive measurements and enough traffic pass; too few is inconclusive, never a pass. */
export function concludeBake(
  tally: AnalysisTally,
  spec: Pick<AnalysisSpec, 'minSamples' | 'minRequests'>,
  requests?: number,
): AnalysisTally {
  if (tally.verdict !== 'running') return tally;
  const withRequests = { ...tally, requests };
  if (tally.passed < spec.minSamples) {
    return {
      ...withRequests,
      verdict: 'inconclusive',
      reason: `too few data points: ${tally.passed} passing measurement${tally.passed === 1 ? '' : 's'}, ${spec.minSamples} needed`,
    };
  }
  if (spec.minRequests) {
    if (requests === undefined)
      return { ...withRequests, verdict: 'inconclusive', reason: 'the request count query returned no data' };
    if (requests < spec.minRequests.min) {
      return {
        ...withRequests,
        verdict: 'inconclusive',
        reason: `too little traffic: ${Math.round(requests)} requests during the bake, ${spec.minRequests.min} needed`,
      };
    }
  }
  return { ...withRequests, verdict: 'passed', reason: `${tally.passed} of ${tally.measurements} measurements passed` };
}

function failingDetail(m: Measurement): string {
  const bad = m.readings.filter((r) => r.outcome === m.outcome);
  return (bad.length ? bad : m.readings).map((r) => `${r.name}: ${r.detail}`).join('; ');
}

/** Fills `{{region}}`-style placeholders of a PromQL template; an unknown placeholder is left as is. */
export function fillQuery(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}
