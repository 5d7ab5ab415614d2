import {
  combineReadings,
  describeComparison,
  fillQuery,
  judgeMetric,
  type Measurement,
  type Reading,
} from '../../domain/bake-analysis';
import { formatDuration } from '../../domain/duration';
import type { AnalysisSpec } from '../../domain/release-spec';
import { queryInstant } from '../metrics/prometheus-client';

export interface MeasurementTarget {
  endpoint: string;
  prometheusUrl?: string;
  /** Values of the `{{...}}` placeholders in queries. */
  placeholders: Record<string, string>;
  timeoutMs?: number;
}

async function probe(target: MeasurementTarget, p: AnalysisSpec['probes'][number]): Promise<Reading> {
  const url = new URL(p.path, target.endpoint.endsWith('/') ? target.endpoint : `${target.endpoint}/`).toString();
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(target.timeoutMs ?? 10_000) });
    await res.arrayBuffer();
    const ms = Math.round(performance.now() - started);
    if (res.status !== p.status)
      return {
        name: p.name,
        outcome: 'failed',
        value: ms,
        detail: `GET ${p.path} answered ${res.status}, expected ${p.status}`,
      };
    if (p.maxLatency !== undefined && ms > p.maxLatency) {
      return {
        name: p.name,
        outcome: 'failed',
        value: ms,
        detail: `GET ${p.path} took ${ms}ms, limit ${formatDuration(p.maxLatency)}`,
      };
    }
    return { name: p.name, outcome: 'passed', value: ms, detail: `GET ${p.path} answered ${res.status} in ${ms}ms` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { name: p.name, outcome: 'failed', detail: `GET ${p.path}: no answer (${cause})` };
  }
}

async function metric(target: MeasurementTarget, m: AnalysisSpec['metrics'][number]): Promise<Reading> {
  const conditions = `passes ${describeComparison(m.pass)}${m.fail ? `, fails ${describeComparison(m.fail)}` : ''}`;
  if (!target.prometheusUrl) return { name: m.name, outcome: 'inconclusive', detail: 'no Prometheus configured' };
  let value: number | undefined;
  try {
    value = await queryInstant(target.prometheusUrl, fillQuery(m.query, target.placeholders), {
      timeoutMs: target.timeoutMs,
    });
  } catch (err) {
    // Prometheus not answering says nothing about the region: inconclusive, not failed.
    return { name: m.name, outcome: 'inconclusive', detail: `Prometheus: ${(err as Error).message}` };
  }
  const outcome = judgeMetric(value, m.pass, m.fail);
  const shown = value === undefined ? 'no data' : Number(value.toPrecision(4)).toString();
  return { name: m.name, outcome, value, detail: `${shown} (${conditions})` };
}

/** One measurement: every probe and every metric, read at once. */
export async function takeMeasurement(
  spec: AnalysisSpec,
  target: MeasurementTarget,
  now: () => Date = () => new Date(),
): Promise<Measurement> {
  const at = now().toISOString();
  const readings = await Promise.all([
    ...spec.probes.map((p) => probe(target, p)),
    ...spec.metrics.map((m) => metric(target, m)),
  ]);
  return { at, outcome: combineReadings(readings), readings };
}
