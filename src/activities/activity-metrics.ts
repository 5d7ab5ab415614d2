import { asyncLocalStorage } from '@temporalio/activity';
import { type MetricMeter, noopMetricMeter } from '@temporalio/common';

/**
 * Meridian's own metrics from activities, through the running activity's metric meter (the SDK tags it
 * with namespace, task queue and activity type; the worker's runtime telemetry exports it). Outside an
 * activity (unit tests, the bench) nothing is emitted.
 */

/** Metric names: wire names for dashboards and alerts, so add, never rename. */
export const activityMetricNames = {
  /** Counter (bytes), tag registry: image blob bytes copied into a regional registry, each blob once it has landed. */
  imageCopyBytes: 'meridian_image_copy_bytes_total',
} as const;

/** The running activity's meter, or a no-op one outside an activity. */
export function activityMeter(): MetricMeter {
  return asyncLocalStorage.getStore()?.metricMeter ?? noopMetricMeter;
}

/** Counts bytes of the image that arrived in `registry`. */
export function countImageCopyBytes(bytes: number, registry: string, meter: MetricMeter = activityMeter()): void {
  if (bytes <= 0) return;
  meter
    .createCounter(activityMetricNames.imageCopyBytes, 'bytes', 'Image bytes copied into regional registries')
    .add(bytes, { registry });
}
