import type { AnalysisTally } from './bake-analysis';
import type { CheckReport } from './integration-checks';
import type { LoadReport } from './load-report';
import type { RegionPhase, RegionTrafficStatus, ReleaseStatus } from './release-status';

/**
 * What the workflows end with: plain data that the CLI, the load-baseline lookup and tests read back
 * from Temporal. The workflows' wire contract (src/workflows/definitions.ts) re-exports them.
 */

/** What a region workflow ends with. */
export interface RegionResult {
  /** The region's name, as in spec.regions. */
  name: string;
  /** How the region ended. */
  phase: Extract<RegionPhase, 'Succeeded' | 'RolledBack' | 'Failed' | 'Aborted' | 'Inconclusive'>;
  /** Which run of the region this was (1-based; a retry amendment runs it again). */
  attempt: number;
  /** Why the region did not succeed. */
  error?: string;
  /** The integration checks' report. */
  checks?: CheckReport;
  /** Staging regions: the load test report. */
  load?: LoadReport;
  /** The bake's health analysis. */
  analysis?: AnalysisTally;
  /** Regions behind a steered hostname: their share of its answers as the region's workflow left it. */
  traffic?: RegionTrafficStatus;
  /** Digest of the manifests deployed. */
  digest?: string;
  /** The image reference Meridian set in the manifests. */
  image?: string;
  /** Workflow time (epoch ms) the region's failure was detected, for the time-to-halt metric (absent on success and abort). */
  failedAt?: number;
}

/** What a release workflow ends with when it succeeds (a failed or aborted release fails the workflow). */
export type ReleaseResult = ReleaseStatus & { results: RegionResult[] };
