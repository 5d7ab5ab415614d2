/**
 * Meridian's own metrics from the workflows, through the SDK's workflow metric meter: it emits nothing
 * while a workflow replays, so a release counted once is counted once, however often a worker replays
 * it. Emitting creates no command, so none of this needs a patch. The worker's runtime telemetry decides
 * where the numbers go (Prometheus, MERIDIAN_METRICS_ADDRESS); without it the meter is a no-op. The SDK
 * adds the namespace, task queue and workflow type as tags.
 */
import { metricMeter } from '@temporalio/workflow';
import type { RegionResult } from './definitions';

/** Metric names: wire names for dashboards and alerts, so add, never rename. */
export const releaseMetricNames = {
  /** Counter, tag app: releases that began (a replayed or retried start counts once). */
  releasesStarted: 'meridian_releases_started_total',
  /** Counter, tags app and phase (Succeeded, Failed, Aborted): releases that ended. */
  releasesEnded: 'meridian_releases_total',
  /** Counter, tag region: regions that ended up running the release (an accepted inconclusive bake counts). */
  regionsDeployed: 'meridian_regions_deployed_total',
  /** Counter, tags region and by (region: its own failure; release: a skip, rollback-all or an ended release). */
  regionsRolledBack: 'meridian_regions_rolled_back_total',
  /** Histogram (ms), tags region and onFailure: from a region's failure being detected to the release halted or rolled back. */
  timeToHalt: 'meridian_time_to_halt_ms',
  /** Histogram (ms), tags region and outcome (passed, failed, inconclusive, aborted): how long bakes ran. */
  bakeDuration: 'meridian_bake_duration_ms',
} as const;

/** The meter the workflows emit through; tests hand in one that records. */
export type ReleaseMeter = Pick<typeof metricMeter, 'createCounter' | 'createHistogram'>;

/** How a bake ended, as the bake-duration histogram tags it. */
export type BakeOutcome = 'passed' | 'failed' | 'inconclusive' | 'aborted';

/** Records Meridian's release metrics. Counters and histograms are made when used, so this may be called outside a workflow (tests). */
export function releaseMetrics(meter: ReleaseMeter = metricMeter) {
  const count = (name: string, description: string, tags: Record<string, string>) =>
    meter.createCounter(name, undefined, description).add(1, tags);
  const recordMs = (name: string, description: string, ms: number, tags: Record<string, string>) =>
    meter.createHistogram(name, 'int', 'ms', description).record(Math.max(0, Math.round(ms)), tags);
  return {
    releaseStarted(app: string): void {
      count(releaseMetricNames.releasesStarted, 'Releases started', { app });
    },
    releaseEnded(app: string, phase: 'Succeeded' | 'Failed' | 'Aborted'): void {
      count(releaseMetricNames.releasesEnded, 'Releases ended, by phase', { app, phase });
    },
    /** Counts what a region's workflow ended with: deployed, or rolled back by itself. */
    regionEnded(result: Pick<RegionResult, 'name' | 'phase'>): void {
      if (result.phase === 'Succeeded') this.regionDeployed(result.name);
      if (result.phase === 'RolledBack') this.regionRolledBack(result.name, 'region');
    },
    regionDeployed(region: string): void {
      count(releaseMetricNames.regionsDeployed, 'Regions that run the release', { region });
    },
    regionRolledBack(region: string, by: 'region' | 'release'): void {
      count(releaseMetricNames.regionsRolledBack, 'Regions rolled back to what they ran before', { region, by });
    },
    timeToHalt(ms: number, region: string, onFailure: string): void {
      recordMs(releaseMetricNames.timeToHalt, "From a region's failure to the release halted or rolled back", ms, {
        region,
        onFailure,
      });
    },
    bakeEnded(ms: number, region: string, outcome: BakeOutcome): void {
      recordMs(releaseMetricNames.bakeDuration, 'How long bakes ran', ms, { region, outcome });
    },
  };
}
