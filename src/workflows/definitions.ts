/**
 * The wire names of Meridian's workflows: signals, updates and queries that the CLI, the `temporal`
 * CLI and the Web UI use. Renaming one breaks releases already running: add, never rename.
 *
 * With the `temporal` CLI:
 *   temporal workflow signal --workflow-id ID --name pause   --input '{"by":"me","reason":"..."}'
 *   temporal workflow signal --workflow-id ID --name resume
 *   temporal workflow signal --workflow-id ID --name approve --input '{"gate":"after-canary"}'
 *   temporal workflow signal --workflow-id ID --name abort   --input '{"reason":"..."}'
 *   temporal workflow query  --workflow-id ID --type status
 *   temporal workflow update execute --workflow-id ID --name skip-region --input '{"region":"eu-west","by":"me","reason":"..."}'
 *   temporal workflow update execute --workflow-id ID --name move-region --input '{"region":"sa-east","toWave":5,"reason":"..."}'
 *
 * Every payload is read as hostile (src/domain/operator-requests.ts): a plain object with only the
 * fields below, `by` at most 256 and `reason` at most 1024 characters of one line. An update that breaks
 * this is refused with the field; such a signal changes nothing and is logged, and recorded in the
 * status's actions as `refused <name> signal` (the first 20). Without a `by`, an action is recorded
 * with the identity the sender's client gave Temporal (`temporal-cli:user@host` for the temporal CLI).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RegionSpec } from '../domain/release-spec';
import type { RegionStatus, ReleaseStatus } from '../domain/release-status';

/** Who asks for an operator action, and why. Both optional: the CLI fills in user@host; without it, the sender's Temporal identity is recorded. */
export interface OperatorRequest {
  by?: string;
  reason?: string;
}

export interface ApproveRequest extends OperatorRequest {
  /** The gate to approve; defaults to the one waiting. */
  gate?: string;
}

/** An amendment to one region of the plan; `reason` is required (amendments are recorded with who and why). */
export interface AmendRequest extends OperatorRequest {
  region: string;
}

export interface MoveRegionRequest extends AmendRequest {
  /** The later wave (1-based) to move to; one past the last adds a wave. */
  toWave: number;
}

export interface AddRegionRequest extends OperatorRequest {
  /** The region as in spec.regions, validated (meridian add-region reads it from the spec file). */
  region: RegionSpec;
  /** Wave (1-based) to join; one past the last (the default) adds a wave. */
  wave?: number;
}

/** Task queue the worker polls and releases run on. */
export const taskQueue = 'meridian';

/** Workflow type names. */
export const releaseWorkflowType = 'releaseWorkflow';
export const regionWorkflowType = 'regionWorkflow';

// Signals: fire and forget, e.g. from `temporal workflow signal` or the Web UI.
export const pauseSignal = defineSignal<[OperatorRequest?]>('pause');
export const resumeSignal = defineSignal<[OperatorRequest?]>('resume');
export const approveSignal = defineSignal<[ApproveRequest?]>('approve');
export const abortSignal = defineSignal<[OperatorRequest?]>('abort');

// Updates: the same actions for a caller that wants an answer (the status after it, or why not).
export const pauseUpdate = defineUpdate<ReleaseStatus, [OperatorRequest]>('pause');
export const resumeUpdate = defineUpdate<ReleaseStatus, [OperatorRequest]>('resume');
export const approveUpdate = defineUpdate<ReleaseStatus, [ApproveRequest]>('approve');
export const abortUpdate = defineUpdate<ReleaseStatus, [OperatorRequest]>('abort');

// Amendments: updates only, since the caller needs to know whether the change was accepted.
export const skipRegionUpdate = defineUpdate<ReleaseStatus, [AmendRequest]>('skip-region');
export const retryRegionUpdate = defineUpdate<ReleaseStatus, [AmendRequest]>('retry-region');
export const moveRegionUpdate = defineUpdate<ReleaseStatus, [MoveRegionRequest]>('move-region');
export const addRegionUpdate = defineUpdate<ReleaseStatus, [AddRegionRequest]>('add-region');

/** The release's status: wave, each region's phase, what it waits for and until when. */
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** A region workflow's own status: its step, what it waits for and until when. */
export const regionStatusQuery = defineQuery<RegionStatus>('region-status');

// What the workflows end with: plain data in src/domain, re-exported so that this contract stays complete.
export type { RegionResult, ReleaseResult } from '../domain/release-results';
