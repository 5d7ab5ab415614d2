import { build, type Histogram } from 'hdr-histogram-js';
import type { LatencyFigures } from '../../domain/load-report';

/**
 * Latencies of a load test in an HDR histogram with microsecond resolution and three significant
 * digits, so that p99 of a fast endpoint (under a millisecond) is still a figure, and a slow one costs
 * no more memory.
 */
export class LatencyHistogram {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one answer's latency in milliseconds (fractions kept to the microsecond). */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Answers recorded. */
  get count(): number {
    return this.histogram.totalCount;
  }

  /** p50, p90, p99 and max in milliseconds; zeros when nothing was recorded. */
  figures(): LatencyFigures {
    const ms = (us: number) => us / 1000;
    if (this.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
    const at = (p: number) => ms(this.histogram.getValueAtPercentile(p));
    return { p50: at(50), p90: at(90), p99: at(99), max: ms(this.histogram.maxValue) };
  }
}
