import { condition, patched, startChild } from '@temporalio/workflow';
import type { RegionInput } from '../../domain/release-input';
import { restoring, rollingOut, steering as steeringSteps } from '../activity-proxies';
import { abortSignal, pauseSignal, type RegionResult } from '../definitions';
import { describeAbort, describeFailure } from '../failures';
import { regionWorkflow, rolloutTimeoutMs } from '../region-workflow';
import { appKey, phaseKey, regionKey, versionKey } from '../search-attributes';
import { regionChildDetails, regionChildSummary, regionStep } from '../timeline';
import type { ImageCopies } from './image-copies';
import { analysisFor, loadFor, type ReleaseContext, steeringFor } from './release-context';
import type { ReleaseState } from './release-state';

/**
 * The regions of a release: each runs in its own child workflow (deploy, check, bake), up to
 * maxParallel at once; regions that must not stay on the release are rolled back here.
 */
export class RegionRuns {
  /** Regions deploy the image by digest, once it is in their registry (patched: releases started before deploy by tag). */
  deployByDigest = false;

  constructor(
    private readonly ctx: ReleaseContext,
    private readonly state: ReleaseState,
    private readonly images: ImageCopies,
  ) {}

  /** Runs regions of wave `index` up to maxParallel at once; stops starting new ones after a failure or an abort. */
  async runWave(index: number, names: string[]): Promise<RegionResult[]> {
    const { state } = this;
    const queue = [...names];
    const done: RegionResult[] = [];
    const stop = () => state.abort !== undefined || done.some((r) => r.phase !== 'Succeeded');
    // A queued region an operator skipped or moved to a later wave meanwhile is left out.
    const stillQueued = (name: string) =>
      !state.leaving.has(name) &&
      state.status.regions.some((r) => r.name === name && r.wave === index + 1 && r.phase !== 'Skipped');
    const lane = async () => {
      while (queue.length > 0 && !stop()) {
        await condition(() => !state.paused || state.abort !== undefined);
        if (stop()) break;
        const name = queue.shift()!;
        if (stillQueued(name)) done.push(await this.run(name));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.ctx.plan.maxParallel, names.length) }, lane));
    return done;
  }

  /** An operator accepted an inconclusive region: it counts as succeeded, and the status says who said so. */
  accept(name: string): void {
    this.state.settleRegion(name, 'Succeeded', this.acceptedBy());
    this.ctx.metrics.regionDeployed(name);
  }

  /**
   * After an operator accepted them: accepted regions their inconclusive bake held at part of their
   * users get them all back (patched). A DNS step that fails is recorded; the region stays accepted.
   */
  async giveAcceptedTheirUsers(names: string[]): Promise<void> {
    for (const name of names) {
      const held = this.state.region(name)?.traffic;
      const traffic = steeringFor(this.ctx, name);
      if (!traffic || !held || held.mode === 'in' || !patched('release-accept-restores-traffic')) continue;
      const why = this.acceptedBy();
      const problem = await this.steer(name, traffic, 1, `${why}: in service`);
      if (problem) this.state.settleRegion(name, 'Succeeded', `${why}; ${problem}`);
    }
  }

  private acceptedBy(): string {
    const who = this.state.status.actions.filter((a) => a.action.startsWith('approve')).at(-1)?.by ?? 'an operator';
    return `inconclusive bake accepted by ${who}`;
  }

  /** Rolls regions back, newest first; one that cannot be rolled back is marked Failed and the others still go. Returns those. */
  async rollBack(names: string[], why: string): Promise<string[]> {
    const { ctx, state } = this;
    const notBack: string[] = [];
    for (const name of [...names].reverse()) {
      state.updateRegion(name, { phase: 'RollingBack' });
      const step = { release: ctx.releaseRef, region: ctx.regionsByName.get(name)! };
      // Its users leave the version before it is rolled back, as a region's own rollback does (patched).
      const trafficProblem = patched('release-rollback-steers-traffic')
        ? await this.drainBeforeRollback(name, why)
        : undefined;
      try {
        const undone = await restoring.rollbackRegion.executeWithOptions(
          { summary: regionStep(name, `roll back (${why})`) },
          [step],
        );
        // Back means running what it ran before: wait for the restored Deployments to roll out.
        if (patched('release-rollback-waits-for-rollout') && undone.deployments?.length) {
          await rollingOut.waitForRollout.executeWithOptions(
            { summary: regionStep(name, 'wait for the rollback to roll out') },
            [{ ...step, deployments: undone.deployments, timeoutMs: rolloutTimeoutMs }],
          );
        }
      } catch (err) {
        state.settleRegion(name, 'Failed', `could not roll back (${why}): ${describeFailure(err)}`);
        notBack.push(name);
        continue;
      }
      state.settleRegion(name, 'RolledBack', trafficProblem ? `${why}; ${trafficProblem}` : why);
      ctx.metrics.regionRolledBack(name, 'release');
    }
    return notBack;
  }

  /**
   * A region behind the spec's hostname with `onRollback: drain` leaves the answers before the release
   * rolls it back, and stays out until an operator restores it or a later release succeeds there.
   * Returns what went wrong with the traffic step; the rollback goes on regardless.
   */
  private async drainBeforeRollback(name: string, why: string): Promise<string | undefined> {
    const traffic = steeringFor(this.ctx, name);
    if (!traffic || traffic.onRollback !== 'drain') return undefined;
    return this.steer(name, traffic, 0, `drained: ${why}`);
  }

  /** Sets a region's share of the hostname's answers as the release; says what went wrong, if anything. */
  private async steer(
    name: string,
    traffic: NonNullable<RegionInput['steering']>,
    share: 0 | 1,
    why: string,
  ): Promise<string | undefined> {
    const { releaseId } = this.ctx.input;
    const reason = why.slice(0, 900);
    try {
      await steeringSteps.steerRegion.executeWithOptions(
        { summary: regionStep(name, `${share === 0 ? 'drain from' : 'restore to'} ${traffic.hostname}`) },
        [
          {
            steering: traffic,
            region: name,
            share,
            release: releaseId,
            note: { by: `release ${releaseId}`, reason, at: new Date(Date.now()).toISOString(), release: releaseId },
          },
        ],
      );
      const mode = share === 0 ? 'drained' : 'in';
      this.state.setRegionTraffic(name, { hostname: traffic.hostname, mode, share, reason });
      return undefined;
    } catch (err) {
      return `traffic not ${share === 0 ? 'drained' : 'restored'}: ${describeFailure(err)}`;
    }
  }

  /** Rolls back every region the release reached (onFailure: rollback-all). */
  async rollBackSucceeded(): Promise<void> {
    const reached = this.state.status.regions
      .filter((r) => this.state.resultOf(r.name)?.phase === 'Succeeded')
      .map((r) => r.name);
    await this.rollBack(reached, 'rolled back with the release (onFailure: rollback-all)');
  }

  /** Resolves once the release is aborted. */
  private aborted?: Promise<undefined>;

  /**
   * One waiter for an abort, shared by every region: a waiter per region stayed pending after its image
   * arrived, and every activation of a big release re-checked them all.
   */
  private whenAborted(): Promise<undefined> {
    this.aborted ??= condition(() => this.state.abort !== undefined).then(() => undefined);
    return this.aborted;
  }

  /** One region, start to end: its image, then its workflow. Never throws: a failure is the region's result. */
  private async run(name: string): Promise<RegionResult> {
    const { ctx, state } = this;
    const entry = state.region(name)!;
    const attempt = entry.attempts + 1;
    const workflowId = `${ctx.input.releaseId}.${name}.${attempt}`;
    // The region's own workflow knows its step; status readers ask it (the parent's history stays small).
    state.replaceRegion(name, {
      name,
      wave: entry.wave,
      phase: 'Running',
      attempts: attempt,
      workflowId,
      ...(entry.note ? { note: entry.note } : {}),
    });
    const regionInput = this.regionInput(name, entry.wave, attempt);
    let result: RegionResult;
    try {
      if (this.deployByDigest) {
        const registry = regionInput.region.registry;
        state.updateRegion(name, { phase: 'Replicating', waitingFor: `the image in ${registry}` });
        const abortedMeanwhile = this.whenAborted();
        const copying = this.images.digestIn(registry);
        copying.catch(() => undefined); // an abort may win the race: its failure is then nobody's
        const digest = await Promise.race([copying, abortedMeanwhile]);
        // Aborted while the image was on its way: the region was never touched.
        if (state.abort || digest === undefined) return this.abandon(name, attempt, describeAbort(state.abort ?? {}));
        state.updateRegion(name, { phase: 'Running', waitingFor: undefined });
        regionInput.release = { ...regionInput.release, image: { ...regionInput.release.image, digest } };
      }
      const child = await startChild(regionWorkflow, {
        workflowId,
        args: [regionInput],
        staticSummary: regionChildSummary(regionInput),
        staticDetails: regionChildDetails(regionInput),
        typedSearchAttributes: [
          { key: appKey, value: ctx.spec.metadata.app },
          { key: versionKey, value: ctx.spec.metadata.version },
          { key: regionKey, value: name },
          { key: phaseKey, value: 'Pending' },
        ],
      });
      state.running.set(name, child);
      if (state.paused) child.signal(pauseSignal).catch(() => undefined);
      // An abort taken while this child was starting went to the regions running then, not to this one
      // (a signal is handled before the start it came with): without it the region deployed and baked in full.
      if (state.abort && patched('abort-reaches-region-started-meanwhile'))
        child.signal(abortSignal, state.abort).catch(() => undefined);
      result = await child.result();
    } catch (err) {
      result = { name, phase: 'Failed', attempt, error: describeFailure(err), failedAt: Date.now() };
    } finally {
      state.running.delete(name);
    }
    state.finishRegion(result);
    ctx.metrics.regionEnded(result);
    return result;
  }

  private regionInput(name: string, wave: number, attempt: number): RegionInput {
    const { ctx } = this;
    return {
      release: ctx.releaseRef,
      region: ctx.regionsByName.get(name)!,
      wave,
      template: ctx.input.template,
      values: ctx.spec.spec.template.values,
      checks: ctx.input.checks,
      bakeMs: ctx.waves[wave - 1].bakeMs,
      onFailure: ctx.rollout.onFailure,
      attempt,
      load: loadFor(ctx, name),
      analysis: analysisFor(ctx),
      prometheusUrl: ctx.spec.spec.validation.prometheus?.url,
      steering: steeringFor(ctx, name),
    };
  }

  /** A region that ends before its workflow started: nothing was deployed there. */
  private abandon(name: string, attempt: number, why: string): RegionResult {
    const result: RegionResult = { name, phase: 'Aborted', attempt, error: why };
    this.state.finishRegion(result);
    return result;
  }
}
