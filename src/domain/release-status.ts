import type { AnalysisTally } from './bake-analysis';
import type { RegistryStatus } from './image-replication';
import type { LoadReport } from './load-report';

/**
 * What a release and each of its regions are doing: closed sets of phases, kept apart from the spec
 * (what was asked). Phase names are wire values: they appear in queries, search attributes and results.
 */

export const releasePhases = [
  /** Validated and started; no region touched yet. */
  'Pending',
  /** Regions are being deployed, checked or baked. */
  'Running',
  /** An operator paused it: no new step starts until resumed. */
  'Paused',
  /** A gate waits for an operator's approval. */
  'WaitingForApproval',
  /** A region failed; the release waits for an operator to resume (retry) or abort. */
  'Halted',
  /** Every region runs the new version. */
  'Succeeded',
  /** A gate said no, or a region failed and the release was ended. */
  'Failed',
  /** An operator stopped it. */
  'Aborted',
] as const;
export type ReleasePhase = (typeof releasePhases)[number];

export function isTerminalReleasePhase(phase: ReleasePhase): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Aborted';
}

export const regionPhases = [
  /** Not started yet. */
  'Pending',
  /** Started; the region's own workflow knows its step (the CLI shows it). */
  'Running',
  /** Making sure the image is in the region's registry. */
  'Replicating',
  /** Taking the region out of its hostname's DNS answers before it deploys, and waiting one TTL. */
  'Draining',
  /** Rendering the region's manifests from the template. */
  'Rendering',
  /** Applying the manifests to the region's cluster. */
  'Deploying',
  /** Waiting for the Deployment to roll out. */
  'RollingOut',
  /** Running the integration checks against the region's endpoint. */
  'Checking',
  /** Replaying recorded traffic against a staging region's endpoint. */
  'LoadTesting',
  /** Waiting (and watching) before the next wave. */
  'Baking',
  /** Deployed, checked and baked. */
  'Succeeded',
  /** Undoing the region's deploy. */
  'RollingBack',
  /** Failed and rolled back to what it ran before. */
  'RolledBack',
  /** Failed; left as it is (onFailure: halt). */
  'Failed',
  /** Its bake analysis had too little to go on: an operator accepts it (approve) or re-bakes it (resume). */
  'Inconclusive',
  /** An operator stopped it. */
  'Aborted',
  /** Skipped by an operator. */
  'Skipped',
] as const;
export type RegionPhase = (typeof regionPhases)[number];

export function isTerminalRegionPhase(phase: RegionPhase): boolean {
  return ['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Skipped', 'Inconclusive'].includes(phase);
}

/** One region as the release status shows it. */
export interface RegionStatus {
  /** Region name. */
  name: string;
  /** Wave (1-based) the region belongs to. */
  wave: number;
  phase: RegionPhase;
  /** What the region waits for right now, in words. */
  waitingFor?: string;
  /** When the current wait ends, if it has an end (ISO time). */
  until?: string;
  /** Why it failed, when it did. */
  error?: string;
  /** The last amendment to the region: what, who and why (e.g. skipped by alice: ...). */
  note?: string;
  /** How many times the region was started (retries after a halt add one). */
  attempts: number;
  /** Workflow id of the region's current attempt, once started. */
  workflowId?: string;
  /** Staging regions: the load test's figures and gates. */
  load?: LoadReport;
  /** The bake's health analysis so far: counts and the last (or deciding) measurement. */
  analysis?: AnalysisTally;
  /** Regions behind a steered hostname: the share of its users it answers for now, as this release set it. */
  traffic?: RegionTrafficStatus;
}

/** A region's part in its hostname's DNS answers, as the release last set it. */
export interface RegionTrafficStatus {
  /** The hostname whose answers the region is part of. */
  hostname: string;
  mode: 'in' | 'ramp' | 'drained';
  /** The share of the region's own users it answers for: 1 in service, 0 drained. */
  share: number;
  /** Why, in words (drained to deploy, ramping while it bakes, rolled back, ...). */
  reason: string;
}

/** One operator action, as recorded in the status. */
export interface OperatorAction {
  /** pause | resume | approve | abort | ... */
  action: string;
  /** Who asked, as given by the client (user@host by default). */
  by: string;
  reason?: string;
  /** Workflow time of the action (ISO). */
  at: string;
}

/** What the `status` query answers. */
export interface ReleaseStatus {
  releaseId: string;
  app: string;
  version: string;
  phase: ReleasePhase;
  /** Current wave, 1-based; 0 before the first. */
  wave: number;
  waves: { regions: string[]; bakeMs: number }[];
  regions: RegionStatus[];
  /** What the release waits for right now, in words. */
  waitingFor?: string;
  /** When that wait ends (ISO), if it has an end. */
  until?: string;
  /** Gate that waits for approval. */
  gate?: string;
  paused: boolean;
  /** The image in each region's registry (releases started before replication have none). */
  registries?: RegistryStatus[];
  /** Why it failed or was aborted. */
  reason?: string;
  actions: OperatorAction[];
}
