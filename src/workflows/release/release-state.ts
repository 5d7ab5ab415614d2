import { type ChildWorkflowHandle, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import {
  isTerminalReleasePhase,
  type RegionStatus,
  type ReleasePhase,
  type ReleaseStatus,
} from '../../domain/release-status';
import type { OperatorRequest, RegionResult } from '../definitions';
import type { regionWorkflow } from '../region-workflow';
import { phaseKey } from '../search-attributes';
import { releaseDetails } from '../timeline';

/** What ended a release early, as amendments see it. */
export type Ending = 'aborted' | 'failed' | undefined;

/**
 * Everything a release knows while it runs, and the only way to change it. The status is what the
 * `status` query answers; each region has one entry there and, once it has run, one result. Every
 * change goes through a method here, which keeps both in step and the Web UI details current.
 */
export class ReleaseState {
  /** The status query's answer. */
  readonly status: ReleaseStatus;
  /** Region workflows under way, by region. */
  readonly running = new Map<string, ChildWorkflowHandle<typeof regionWorkflow>>();
  /** Gates an operator approved. */
  readonly approved = new Set<string>();
  /** Failed regions an operator asked to run again now, while the release is halted on them. */
  readonly retryNow = new Set<string>();
  /** Regions an operator skipped that are being rolled back: nothing starts them meanwhile. */
  readonly leaving = new Set<string>();
  /** Bakes owed before a wave an operator added (wave index → ms). */
  readonly bakeOwed = new Map<number, number>();
  /** The operator's abort, once asked. */
  abort: OperatorRequest | undefined;
  /** Why the release failed, once it has. */
  failed: string | undefined;
  /** An operator resumed a halted release: the halt lifts at the loop's next look. */
  resumeAfterHalt = false;
  /** The failed regions the release is halted on. */
  haltedOn: string[] = [];

  private readonly results = new Map<string, RegionResult>();
  /** Where the rollout is; the status shows `Paused` over it while an operator holds the release. */
  private rolloutPhase: ReleasePhase = 'Pending';

  /** @param pausedIsAPhase the status (and the phase search attribute) show Paused while paused (patched). */
  constructor(
    init: Pick<ReleaseStatus, 'releaseId' | 'app' | 'version' | 'waves'>,
    private readonly pausedIsAPhase: boolean,
  ) {
    this.status = {
      ...init,
      phase: 'Pending',
      wave: 0,
      regions: init.waves.flatMap((w, i) =>
        w.regions.map((name) => ({ name, wave: i + 1, phase: 'Pending' as const, attempts: 0 })),
      ),
      paused: false,
      actions: [],
    };
  }

  /** Where the rollout is, paused or not: the phase the workflow's own decisions read. */
  get phase(): ReleasePhase {
    return this.rolloutPhase;
  }

  get paused(): boolean {
    return this.status.paused;
  }

  /** Succeeded, Failed or Aborted. */
  isFinished(): boolean {
    return isTerminalReleasePhase(this.rolloutPhase);
  }

  /** Aborted, or failed: no new wave starts. */
  isEnding(): boolean {
    return this.abort !== undefined || this.failed !== undefined;
  }

  ending(): Ending {
    return this.abort !== undefined ? 'aborted' : this.failed !== undefined ? 'failed' : undefined;
  }

  /** The rollout's phase and what it waits for now (the status's `waitingFor` and `until`). */
  setPhase(phase: ReleasePhase, waitingFor?: string, until?: string): void {
    this.rolloutPhase = phase;
    Object.assign(this.status, { waitingFor, until });
    this.showPhase();
  }

  setPaused(paused: boolean): void {
    this.status.paused = paused;
    this.showPhase();
  }

  /** Moves to wave `index` (0-based). */
  enterWave(index: number): void {
    this.status.wave = index + 1;
    this.showDetails();
  }

  /** Sets (or clears) the gate waiting for an operator, and why the release stopped there. */
  setGate(gate: string | undefined, reason?: string): void {
    this.status.gate = gate;
    this.status.reason = reason;
  }

  /** Records an operator action: by whom the request says, else the identity Temporal reported for its sender. */
  record(action: string, request: OperatorRequest | undefined, sender?: string): void {
    this.status.actions.push({
      action,
      by: request?.by ?? sender ?? 'unknown',
      reason: request?.reason,
      at: new Date(Date.now()).toISOString(),
    });
    this.showDetails();
  }

  region(name: string): RegionStatus | undefined {
    return this.status.regions.find((r) => r.name === name);
  }

  phaseOf(name: string): RegionStatus['phase'] | undefined {
    return this.region(name)?.phase;
  }

  /** Changes a region's entry in the status. */
  updateRegion(name: string, change: Partial<RegionStatus>): void {
    const i = this.status.regions.findIndex((r) => r.name === name);
    this.status.regions[i] = { ...this.status.regions[i], ...change };
    this.showDetails();
  }

  /** Replaces a region's entry in the status (its workflow started: nothing of the last attempt stays). */
  replaceRegion(name: string, entry: RegionStatus): void {
    const i = this.status.regions.findIndex((r) => r.name === name);
    this.status.regions[i] = entry;
    this.showDetails();
  }

  /** A region added to the plan in flight. */
  addRegion(entry: RegionStatus): void {
    this.status.regions.push(entry);
  }

  /** What the region's last attempt ended with, if it ran. */
  resultOf(name: string): RegionResult | undefined {
    return this.results.get(name);
  }

  hasRun(name: string): boolean {
    return this.results.has(name);
  }

  /** A region's workflow ended: its result, and its status entry from it. */
  finishRegion(result: RegionResult): void {
    this.results.set(result.name, result);
    this.updateRegion(result.name, {
      phase: result.phase,
      error: result.error,
      waitingFor: undefined,
      until: undefined,
      ...(result.load ? { load: result.load } : {}),
      ...(result.analysis ? { analysis: result.analysis } : {}),
      ...(result.traffic ? { traffic: result.traffic } : {}),
    });
  }

  /** A region's outcome changed after its workflow ended (rolled back, accepted, or never started): result and status both. */
  /** A region's share of its hostname's answers as the release itself set it (after its workflow ended). */
  setRegionTraffic(name: string, traffic: NonNullable<RegionResult['traffic']>): void {
    const result = this.results.get(name);
    if (result) this.results.set(name, { ...result, traffic });
    this.updateRegion(name, { traffic });
  }

  settleRegion(name: string, phase: RegionResult['phase'], error: string | undefined, attempt?: number): void {
    this.results.set(name, {
      ...(this.results.get(name) ?? { name, attempt: attempt ?? this.region(name)?.attempts ?? 0 }),
      phase,
      error,
    });
    this.updateRegion(name, { phase, error });
  }

  /** Every region's result, in plan order. */
  orderedResults(): RegionResult[] {
    return this.status.regions.map((r) => this.results.get(r.name)).filter((r): r is RegionResult => r !== undefined);
  }

  /** The release's current details in the Web UI: called wherever the status changes. */
  showDetails(): void {
    setCurrentDetails(releaseDetails(this.status));
  }

  private showPhase(): void {
    const shown =
      this.pausedIsAPhase && this.status.paused && !isTerminalReleasePhase(this.rolloutPhase)
        ? 'Paused'
        : this.rolloutPhase;
    if (this.status.phase !== shown) upsertSearchAttributes([{ key: phaseKey, value: shown }]);
    this.status.phase = shown;
    this.showDetails();
  }
}
