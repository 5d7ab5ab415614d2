/**
 * Orchestration overhead per region: a release of synthetic regions with zero bake and no-op activities
 * on a Temporal server; per region, its workflow's wall time minus the time its activities ran, and
 * where that time went (history-breakdown.ts). Targets (issue 15), 50 regions on the dev server: median
 * under 100 ms, p90 under 200 ms. Measured twice: as the spec runs it (up to 10 regions of a wave at
 * once, contending for the machine's cores) and one region at a time (what one region costs alone).
 */
import type { Client } from '@temporalio/client';
import type { releaseWorkflow } from '../workflows/release-workflow';
import { figure, median, percentile, type SectionResult } from './figures';
import { breakdownParts, type LatencyBreakdown, latencyBreakdown } from './history-breakdown';
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
  /** Per region, in spec order: where its latency went. */
  breakdowns: LatencyBreakdown[];
  /** CPU this process (worker and client) used while the release ran, in ms. */
  cpuMs: number;
}

/** Both runs of the section. */
export interface OverheadRuns {
  /** Waves of up to 10 regions at once. */
  parallel: OrchestrationOverhead;
  /** maxParallel 1: one region at a time. */
  alone: OrchestrationOverhead;
  /** CPU the bench process (worker and client) used while both releases ran, per region, in ms. */
  workerCpuMsPerRegion: number;
}

/** Sizes of the section: regions in the parallel run and in the one-at-a-time run. */
export interface OverheadSizes {
  regions: number;
  aloneRegions: number;
}

/** The section: a release as the spec runs it, then one region at a time, on the same worker. */
export async function measureOverheadRuns(world: NoopWorld, sizes: OverheadSizes): Promise<OverheadRuns> {
  const parallel = await measureOrchestrationOverhead(world, { regions: sizes.regions });
  const alone = await measureOrchestrationOverhead(world, { regions: sizes.aloneRegions, maxParallel: 1 });
  return {
    parallel,
    alone,
    workerCpuMsPerRegion: (parallel.cpuMs + alone.cpuMs) / (parallel.regions + alone.regions),
  };
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
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await world.client.workflow.execute<typeof releaseWorkflow>('releaseWorkflow', {
    workflowId: releaseId,
    taskQueue: world.taskQueue,
    args: [benchReleaseInput(releaseId, spec)],
  });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const names = spec.spec.regions.map((r) => r.name);
  const breakdowns = await regionBreakdowns(world.client, releaseId, names);
  const overheadsMs = breakdowns.map((b) => b.orchestrationMs);
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
    breakdowns,
    cpuMs: (used.user + used.system) / 1000,
  };
}

/** Per region: where its workflow's latency went, from its history. */
async function regionBreakdowns(client: Client, releaseId: string, regions: string[]): Promise<LatencyBreakdown[]> {
  const out: LatencyBreakdown[] = [];
  for (const name of regions) {
    const history = await client.workflow.getHandle(`${releaseId}.${name}.1`).fetchHistory();
    out.push(latencyBreakdown(history.events ?? []));
  }
  return out;
}

/** The median region's breakdown, part by part (each part's median over the regions). */
export function describeBreakdown(breakdowns: readonly LatencyBreakdown[]): string {
  const med = (key: keyof LatencyBreakdown) => median(breakdowns.map((b) => b[key]));
  const parts = breakdownParts.map(([key, label]) => `${label} ${med(key).toFixed(0)} ms`).join(', ');
  return (
    `per region (medians): ${parts}; ${med('workflowTasks')} workflow tasks, ${med('activities')} activities, ` +
    `${med('localActivities')} local activities, ${med('events')} events`
  );
}

/** The section's lines and figures: the parallel run against the targets, the lone run beside it. */
export function describeOverheadRuns(runs: OverheadRuns): SectionResult {
  const parallel = describeOrchestrationOverhead(runs.parallel);
  const a = runs.alone;
  const name = `orchestration, ${a.regions} regions one at a time`;
  return {
    text:
      `${parallel.text}\n   one region at a time (maxParallel 1, ${a.regions} regions): median ${a.medianMs.toFixed(0)} ms ` +
      `(${(a.medianMs / overheadTargets.medianMs).toFixed(2)}x the target), p90 ${a.p90Ms.toFixed(0)} ms ` +
      `(${(a.p90Ms / overheadTargets.p90Ms).toFixed(2)}x); ${describeBreakdown(a.breakdowns)}` +
      `\n   the bench process (worker and client) used ${runs.workerCpuMsPerRegion.toFixed(1)} ms of CPU per region`,
    figures: [
      ...parallel.figures,
      figure(`${name}: region latency, median`, 'ms', a.medianMs, { name: 'target', value: overheadTargets.medianMs }),
      figure(`${name}: region latency, p90`, 'ms', a.p90Ms, { name: 'target', value: overheadTargets.p90Ms }),
      figure('orchestration: worker CPU per region', 'ms', runs.workerCpuMsPerRegion),
    ],
  };
}

/** The section's line and figures. */
export function describeOrchestrationOverhead(o: OrchestrationOverhead): SectionResult {
  const perRegion = o.wallMs / o.regions;
  const text =
    `orchestration overhead, ${o.regions} regions, zero bake, no-op activities, maxParallel ${o.maxParallel}: ` +
    `${o.succeeded}/${o.regions} regions succeeded in ${o.waves} waves; the whole release took ${(o.wallMs / 1000).toFixed(1)} s, ${perRegion.toFixed(0)} ms per region; ` +
    `each region's own latency (its workflow's wall time minus its activities' run time) median ${o.medianMs.toFixed(0)} ms ` +
    `(${(o.medianMs / overheadTargets.medianMs).toFixed(2)}x the ${overheadTargets.medianMs} ms target), ` +
    `p90 ${o.p90Ms.toFixed(0)} ms (${(o.p90Ms / overheadTargets.p90Ms).toFixed(2)}x the ${overheadTargets.p90Ms} ms target); ` +
    describeBreakdown(o.breakdowns);
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
