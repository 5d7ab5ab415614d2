/**
 * Many releases at once on one worker: how many succeed, how long they take, the regions completed per
 * second, and the peak RSS of the process the worker runs in. Target (issue 15): 1,000 releases of 5
 * regions, all succeed, RSS under 1 GiB (the full bench runs 200 unless BENCH_RELEASES says otherwise).
 */
import type { releaseWorkflow } from '../workflows/release-workflow';
import { figure, type SectionResult } from './figures';
import { benchReleaseInput, type NoopWorld } from './noop-worker';
import { loadSyntheticRelease } from './synthetic-release';

/** The RSS target for the worker process, in bytes. */
export const rssTargetBytes = 2 ** 30;

/** What was measured. */
export interface ConcurrentReleases {
  /** Releases started at once. */
  releases: number;
  /** Regions per release. */
  regionsPerRelease: number;
  /** Releases whose workflow returned with phase Succeeded. */
  succeeded: number;
  /** The first few failures, in words. */
  failures: string[];
  /** First start to last result. */
  wallMs: number;
  /** Succeeded releases' regions per second of wallMs. */
  regionsPerSecond: number;
  /** Peak RSS of the worker (this process, unless sampleRss says otherwise), sampled every 200 ms. */
  peakRssBytes: number;
}

/** Sizes of a run. */
export interface ConcurrentOptions {
  /** Releases. Full 200 (BENCH_RELEASES), quick 5. */
  releases: number;
  /** Regions per release. Default 5. */
  regionsPerRelease?: number;
  /** The worker's RSS now, in bytes, when it runs elsewhere; default this process's. */
  sampleRss?: () => number;
}

/** Starts every release at once on the no-op worker and waits for all of them. */
export async function measureConcurrentReleases(
  world: NoopWorld,
  options: ConcurrentOptions,
): Promise<ConcurrentReleases> {
  const regionsPerRelease = options.regionsPerRelease ?? 5;
  const { spec } = loadSyntheticRelease({ regions: regionsPerRelease, traits: 'uniform' });
  const rss = options.sampleRss ?? (() => process.memoryUsage().rss);
  let peakRssBytes = rss();
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, rss());
  }, 200);
  try {
    const started = performance.now();
    const stamp = Date.now().toString(36);
    const handles = await Promise.all(
      Array.from({ length: options.releases }, (_, i) => {
        const id = `bench-concurrent-${stamp}-${i}`;
        return world.client.workflow.start<typeof releaseWorkflow>('releaseWorkflow', {
          workflowId: id,
          taskQueue: world.taskQueue,
          args: [benchReleaseInput(id, spec)],
        });
      }),
    );
    const results = await Promise.allSettled(handles.map((h) => h.result()));
    const wallMs = performance.now() - started;
    peakRssBytes = Math.max(peakRssBytes, rss());
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [`${handles[i].workflowId}: ${String(r.reason)}`]
        : r.value.phase !== 'Succeeded'
          ? [`${handles[i].workflowId}: ended ${r.value.phase}`]
          : [],
    );
    const succeeded = results.length - failures.length;
    return {
      releases: options.releases,
      regionsPerRelease,
      succeeded,
      failures: failures.slice(0, 5),
      wallMs,
      regionsPerSecond: (succeeded * regionsPerRelease) / (wallMs / 1000),
      peakRssBytes,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** The section's line and figures. */
export function describeConcurrentReleases(c: ConcurrentReleases): SectionResult {
  const mib = c.peakRssBytes / 2 ** 20;
  const text =
    `${c.releases} concurrent releases of ${c.regionsPerRelease} regions on one worker: ${c.succeeded}/${c.releases} succeeded in ${(c.wallMs / 1000).toFixed(1)} s ` +
    `(${c.regionsPerSecond.toFixed(1)} regions completed per second); peak RSS of the worker process ${mib.toFixed(0)} MiB ` +
    `(target: under ${rssTargetBytes / 2 ** 20} MiB at 1,000 releases; ${(c.peakRssBytes / rssTargetBytes).toFixed(2)}x of it)` +
    (c.failures.length ? `; failures: ${c.failures.join('; ')}` : '');
  const name = `${c.releases} concurrent releases of ${c.regionsPerRelease} regions`;
  return {
    text,
    figures: [
      figure(`${name}: succeeded`, 'releases', c.succeeded, { name: 'started', value: c.releases }),
      figure(`${name}: throughput`, 'regions/s', c.regionsPerSecond),
      figure(`${name}: worker peak RSS`, 'MiB', mib, { name: 'target', value: rssTargetBytes / 2 ** 20 }),
    ],
  };
}
