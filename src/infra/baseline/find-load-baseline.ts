import type { Client } from '@temporalio/client';
import type { LoadBaseline } from '../../domain/load-report';
import type { ReleaseResult } from '../../domain/release-results';

/** How many recent successful releases are looked through for one that load-tested the environment. */
const lookBack = 20;

/**
 * The figures of the last successful release of an app that ran a load test in an environment at the
 * same rate, found through Temporal's visibility store and the releases' own results: no database of
 * Meridian's own. Latencies at another rate are not comparable, so such a release is no baseline.
 * `releases` is the visibility query for the app's completed releases: the caller builds it with
 * releasesQuery (src/workflows/search-attributes.ts), which owns the search attributes' names.
 */
export async function findLoadBaseline(
  client: Client,
  query: { releases: string; environment: string; rate?: number; excludeReleaseId: string },
): Promise<LoadBaseline | undefined> {
  const candidates: { workflowId: string; runId: string; closeTime: number }[] = [];
  for await (const execution of client.workflow.list({ query: query.releases })) {
    if (execution.workflowId === query.excludeReleaseId) continue;
    candidates.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      closeTime: execution.closeTime?.getTime() ?? 0,
    });
    if (candidates.length >= lookBack * 5) break;
  }
  candidates.sort((a, b) => b.closeTime - a.closeTime);
  for (const candidate of candidates.slice(0, lookBack)) {
    const result = (await client.workflow.getHandle(candidate.workflowId, candidate.runId).result()) as ReleaseResult;
    const report = result.results?.find(
      (r) =>
        r.load?.environment === query.environment &&
        r.phase === 'Succeeded' &&
        (query.rate === undefined || r.load.figures.targetRps === query.rate),
    )?.load;
    if (report) return { releaseId: candidate.workflowId, version: result.version, figures: report.figures };
  }
  return undefined;
}
