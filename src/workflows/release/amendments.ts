import { ApplicationFailure, condition } from '@temporalio/workflow';
import {
  type AmendableRelease,
  type Amendment,
  type AmendmentEffect,
  describeAmendment,
  firstOpenWave,
  planAmendment,
} from '../../domain/plan-amendments';
import type { ReleaseStatus } from '../../domain/release-status';
import type { OperatorRequest } from '../definitions';
import type { RegionRuns } from './region-runs';
import type { ReleaseContext } from './release-context';
import type { ReleaseState } from './release-state';

/**
 * Amendments to a release in flight: skip, retry, move or add a region. The rules (canary first, pins,
 * trait coverage) are the domain's (plan-amendments); this applies what they allow to the plan and the status.
 */
export class Amendments {
  constructor(
    private readonly ctx: ReleaseContext,
    private readonly state: ReleaseState,
    private readonly regions: RegionRuns,
  ) {}

  /** Throws (refusing the update) what would break the plan's rules, or comes without a reason. */
  check(amendment: Amendment, request: OperatorRequest | undefined): void {
    if (!request?.reason?.trim())
      throw new Error('give a reason (--reason TEXT): every amendment is recorded with who asked and why');
    planAmendment(this.amendable(), amendment);
  }

  /**
   * Plans the amendment again on the release as it is now, applies it, and records who asked and why.
   * With `untilSeen`, the answer waits for the release to act on it: a retried or skipped region that
   * lifts a halt answers once the halt has lifted.
   */
  async apply(
    amendment: Amendment,
    request: OperatorRequest,
    sender: string | undefined,
    untilSeen: boolean,
  ): Promise<ReleaseStatus> {
    const { state } = this;
    const effect = planAmendment(this.amendable(), amendment);
    if (effect.kind !== 'none') {
      await this.applyEffect(
        effect,
        `${describeAmendment(effect)} by ${request.by ?? sender ?? 'unknown'}: ${request.reason}`,
      );
      state.record(describeAmendment(effect), request, sender);
      if (untilSeen && this.liftsTheHalt(effect))
        await condition(() => state.haltedOn.length === 0 || state.isEnding());
    }
    return state.status;
  }

  /** A retry of a region the release is halted on, or a skip of the last one not skipped, lets the release go on. */
  private liftsTheHalt(effect: AmendmentEffect): boolean {
    const { haltedOn } = this.state;
    if (effect.kind === 'retry-now') return true;
    return (
      effect.kind === 'skip' &&
      haltedOn.includes(effect.region) &&
      haltedOn.every((name) => this.state.phaseOf(name) === 'Skipped')
    );
  }

  private amendable(): AmendableRelease {
    const { ctx, state } = this;
    return {
      phase: state.phase,
      wave: state.status.wave,
      waves: ctx.waves,
      regions: state.status.regions,
      specs: ctx.regionsByName,
      haltedOn: state.haltedOn,
      byTraits: ctx.plan.waves.some((w) => w.newTraits !== undefined),
      ending: state.ending(),
    };
  }

  private async applyEffect(effect: Exclude<AmendmentEffect, { kind: 'none' }>, note: string): Promise<void> {
    const { state } = this;
    switch (effect.kind) {
      case 'skip': {
        // A region that failed and was left as it is goes back to what it ran: skipped means not released
        // there. Meanwhile it is leaving: a resume or retry does not start it again.
        state.leaving.add(effect.region);
        try {
          const notBack = effect.rollBack ? await this.regions.rollBack([effect.region], 'skipped by an operator') : [];
          if (notBack.length > 0) {
            throw ApplicationFailure.nonRetryable(
              `${effect.region} was not skipped: ${state.region(effect.region)?.error}`,
              'SkipFailed',
            );
          }
        } finally {
          state.leaving.delete(effect.region);
        }
        state.updateRegion(effect.region, { phase: 'Skipped', note });
        return;
      }
      case 'retry-now':
        state.retryNow.add(effect.region);
        state.updateRegion(effect.region, { note });
        return;
      case 'requeue':
      case 'move':
        this.placeIn(effect.region, effect.toWave);
        state.updateRegion(effect.region, { phase: 'Pending', wave: effect.toWave, note });
        return;
      case 'add':
        this.ctx.regionsByName.set(effect.region.name, effect.region);
        state.addRegion({ name: effect.region.name, wave: effect.toWave, phase: 'Pending', attempts: 0, note });
        this.placeIn(effect.region.name, effect.toWave);
        return;
    }
  }

  /** Moves a region into a wave (one past the last adds a wave, baking as production waves do). */
  private placeIn(name: string, toWave: number): void {
    const { ctx, state } = this;
    const { waves } = ctx;
    for (const wave of waves) {
      const i = wave.regions.indexOf(name);
      if (i >= 0) wave.regions.splice(i, 1);
    }
    if (toWave > waves.length) {
      const last = waves.length - 1;
      const bakeMs = ctx.input.overrides.bakeMs ?? ctx.input.timeToSmoke?.ms ?? ctx.rollout.timeToSmoke.floor;
      // The wave that was last baked for nothing: it bakes now, in its regions if they have not started, else before the new wave.
      if (waves[last].bakeMs === 0) {
        waves[last].bakeMs = bakeMs;
        if (firstOpenWave({ phase: state.phase, wave: state.status.wave }) > last + 1)
          state.bakeOwed.set(waves.length, bakeMs);
      }
      waves.push({ regions: [], bakeMs: 0 });
    }
    waves[toWave - 1].regions.push(name);
  }
}
