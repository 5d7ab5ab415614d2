/**
 * The open-model schedule of a paced load test: request i is meant to start i / rate seconds after the
 * test starts, whatever happened to the requests before it. Latency runs from that intended start, so a
 * request held back by a slow answer to an earlier one (every connection busy) carries the wait in its
 * latency, and a stalling endpoint shows in the percentiles instead of hiding in fewer requests
 * (coordinated omission corrected). Pure: the caller reads the clock.
 */
export class PacingSchedule {
  /** Milliseconds between two intended starts. */
  readonly intervalMs: number;

  constructor(
    /** Requests per second. */
    readonly rate: number,
    /** Requests in the whole test. */
    readonly total: number,
  ) {
    if (!(rate > 0)) throw new RangeError(`pacing rate ${rate} is not positive`);
    this.intervalMs = 1000 / rate;
  }

  /** The test of `rate` requests a second for `durationMs`: rate x duration requests, at least one. */
  static forDuration(rate: number, durationMs: number): PacingSchedule {
    return new PacingSchedule(rate, Math.max(1, Math.round((rate * durationMs) / 1000)));
  }

  /** When request i is meant to start, in milliseconds after the test's start. */
  startMs(i: number): number {
    return i * this.intervalMs;
  }

  /** How many requests are due `elapsedMs` into the test: those whose intended start is at or before it. */
  dueBy(elapsedMs: number): number {
    if (elapsedMs < 0) return 0;
    let due = Math.floor(elapsedMs / this.intervalMs) + 1;
    // Division and multiplication round differently: the count agrees with startMs exactly.
    while (due > 0 && this.startMs(due - 1) > elapsedMs) due--;
    while (due < this.total && this.startMs(due) <= elapsedMs) due++;
    return Math.min(due, this.total);
  }

  /** Latency of request i answered `answeredMs` into the test, from its intended start (never negative). */
  latencyMs(i: number, answeredMs: number): number {
    return Math.max(0, answeredMs - this.startMs(i));
  }
}
