/**
 * Orchestration overhead per region: a release of synthetic regions with zero bake and no-op activities
 * on a Temporal server; per region, its workflow's wall time minus the time its activities ran. Targets
 * (issue 15), 50 regions on the dev server: median under 100 ms, p90 under 200 ms.
 */
import type { Client } from '@temporalio/client';
import type { releaseWorkflow } from '../workflows/release-workflow';
import { figure, median, percentile, type SectionResult } from './figures';
import { benchReleaseInput, type NoopWorld } from './noop-worker';
import { loadSyntheticRelease } from './synthetic-release';

/** Targets per region, in ms. */
export const overheadTargets = { medianMs: 100, p90Ms: 200 } as const;

/** What was measured. */
export interface OrchestrationOverhead {
  /** Regions in the release (the first is the canary). */
  regions: number;
  /** Most regions of a wave at once. */
  maxParallel: number;
  /** The release workflow's id. */
  releaseId: string;
  /** How the release ended (Succeeded, when the bench works). */
  phase: string;
  /** Waves the release ran (from its result). */
  waves: number;
  /** Regions the release reported as succeeded. */
  succeeded: number;
  /** The whole release, start to result. */
  wallMs: number;
  /** Per region, in spec order: its workflow's wall time minus its activities' run time. */
  overheadsMs: number[];
  medianMs: number;
  p90Ms: number;
}

/** Sizes of a run. */
export interface OverheadOptions {
  /** Regions. Full 50, quick 5. */
  regions: number;
  /** Default 10. */
  maxParallel?: number;
}

/** Runs one release on the no-op worker and reads every region workflow's history. */
export async function measureOrchestrationOverhead(
  world: NoopWorld,
  options: OverheadOptions,
): Promise<OrchestrationOverhead> {
  const maxParallel = options.maxParallel ?? 10;
  const { spec } = loadSyntheticRelease({ regions: options.regions, traits: 'uniform', maxParallel });
  const releaseId = `bench-overhead-${Date.now().toString(36)}`;
  const started = performance.now();
  const result = await world.client.workflow.execute<typeof releaseWorkflow>('releaseWorkflow', {
    workflowId: releaseId,
    taskQueue: world.taskQueue,
    args: [benchReleaseInput(releaseId, spec)],
  });
  const wallMs = performance.now() - started;
  const names = spec.spec.regions.map((r) => r.name);
  const overheadsMs = await regionOverheads(world.client, releaseId, names);
  return {
    regions: names.length,
    maxParallel,
    releaseId,
    phase: result.phase,
    waves: result.waves.length,
    succeeded: result.results.filter((r) => r.phase === 'Succeeded').length,
    wallMs,
    overheadsMs,
    medianMs: median(overheadsMs),
    p90Ms: percentile(overheadsMs, 90),
  };
}

/** Per region: the region workflow's wall time minus the time its activities ran. */
async function regionOverheads(client: Client, releaseId: string, regions: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const name of regions) {
    const history = await client.workflow.getHandle(`${releaseId}.${name}.1`).fetchHistory();
    const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
      Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
    const events = history.events ?? [];
    const started = new Map<string, number>();
    let activityMs = 0;
    for (const e of events) {
      if (e.activityTaskStartedEventAttributes)
        started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e.eventTime));
      const done = e.activityTaskCompletedEventAttributes;
      if (done) activityMs += ms(e.eventTime) - (started.get(String(done.scheduledEventId)) ?? ms(e.eventTime));
    }
    out.push(ms(events[events.length - 1].eventTime) - ms(events[0].eventTime) - activityMs);
  }
  return out;
}

/** The section's line and figures. */
export function describeOrchestrationOverhead(o: OrchestrationOverhead): SectionResult {
  const perRegion = o.wallMs / o.regions;
  const text =
    `orchestration overhead, ${o.regions} regions, zero bake, no-op activities, maxParallel ${o.maxParallel}: ` +
    `${o.succeeded}/${o.regions} regions succeeded in ${o.waves} waves; the whole release took ${(o.wallMs / 1000).toFixed(1)} s, ${perRegion.toFixed(0)} ms per region; ` +
    `each region's own latency (its workflow's wall time minus its activities' run time) median ${o.medianMs.toFixed(0)} ms ` +
    `(${(o.medianMs / overheadTargets.medianMs).toFixed(2)}x the ${overheadTargets.medianMs} ms target), ` +
    `p90 ${o.p90Ms.toFixed(0)} ms (${(o.p90Ms / overheadTargets.p90Ms).toFixed(2)}x the ${overheadTargets.p90Ms} ms target)`;
  const name = `orchestration, ${o.regions} regions`;
  return {
    text,
    figures: [
      figure(`${name}: whole release per region`, 'ms', perRegion),
      figure(`${name}: region latency, median`, 'ms', o.medianMs, { name: 'target', value: overheadTargets.medianMs }),
      figure(`${name}: region latency, p90`, 'ms', o.p90Ms, { name: 'target', value: overheadTargets.p90Ms }),
    ],
  };
}
