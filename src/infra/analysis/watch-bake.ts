import { addMeasurement, type AnalysisTally, fillQuery } from '../../domain/bake-analysis';
import type { AnalysisSpec } from '../../domain/release-spec';
import { queryInstant } from '../metrics/prometheus-client';
import { type MeasurementTarget, takeMeasurement } from './take-measurement';

export interface BakeWatch {
  analysis: AnalysisSpec;
  target: MeasurementTarget;
  /** When the bake started (epoch ms): {{window}} is the bake so far. */
  startedAt: number;
  /** Watch until then (epoch ms). */
  until: number;
  /** The last stretch of the bake: count the requests it served. */
  final: boolean;
  /** What earlier stretches (or an earlier try of this one) saw. */
  tally: AnalysisTally;
}

export interface BakeWatchHooks {
  now?: () => number;
  /** Waits, and says whether to go on (false: cancelled). Heartbeats while it waits. */
  wait: (ms: number) => Promise<boolean>;
  /** Records progress, so that a retry resumes instead of starting over. */
  checkpoint: (tally: AnalysisTally) => void;
}

/** `{{window}}` as a Prometheus duration: the bake so far, in whole seconds. */
export function windowSince(startedAt: number, now: number): string {
  return `${Math.max(1, Math.round((now - startedAt) / 1000))}s`;
}

/**
 * Measures health every interval until `until`, or until the analysis decides (a failure beyond the
 * limit fails it at once). Returns the tally and, for the last stretch, the requests the bake served.
 */
export async function watchBake(
  watch: BakeWatch,
  hooks: BakeWatchHooks,
): Promise<{ tally: AnalysisTally; requests?: number }> {
  const now = hooks.now ?? Date.now;
  let tally = watch.tally;
  const intervalMs = watch.analysis.interval;
  for (;;) {
    const lastAt = tally.last ? Date.parse(tally.last.at) : undefined;
    const nextAt = lastAt === undefined ? now() : Math.max(now(), lastAt + intervalMs);
    if (nextAt >= watch.until && lastAt !== undefined) break;
    if (nextAt > now() && !(await hooks.wait(nextAt - now()))) return { tally };
    const placeholders = { ...watch.target.placeholders, window: windowSince(watch.startedAt, now()) };
    const measurement = await takeMeasurement(watch.analysis, { ...watch.target, placeholders }, () => new Date(now()));
    tally = addMeasurement(tally, measurement, watch.analysis);
    hooks.checkpoint(tally);
    if (tally.verdict !== 'running') return { tally };
    if (now() >= watch.until) break;
  }
  if (watch.until > now() && !(await hooks.wait(watch.until - now()))) return { tally };
  if (!watch.final || !watch.analysis.minRequests || !watch.target.prometheusUrl) return { tally };
  const query = fillQuery(watch.analysis.minRequests.query, {
    ...watch.target.placeholders,
    window: windowSince(watch.startedAt, now()),
  });
  try {
    return {
      tally,
      requests: await queryInstant(watch.target.prometheusUrl, query, { timeoutMs: watch.target.timeoutMs }),
    };
  } catch {
    // Unknown traffic is treated as too little: the bake ends inconclusive, never passes silently.
    return { tally };
  }
}
