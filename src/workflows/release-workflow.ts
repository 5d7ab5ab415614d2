import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { formatDuration } from '../domain/duration';
import { releaseInputProblems, type ReleaseInput } from '../domain/release-input';
import type { ReleaseResult } from './definitions';
import { describeAbort } from './failures';
import { freezeIdOf, releaseStartedSignal } from './freeze-workflow';
import { checksInputPatch, refuseInput } from './input-checks';
import { Amendments } from './release/amendments';
import { ImageCopies } from './release/image-copies';
import { amendsOneAtATimePatch, answersAfterEffectPatch, registerOperatorHandlers } from './release/operator-handlers';
import { gatesBefore, type ReleaseContext, releaseContext } from './release/release-context';
import { ReleaseState } from './release/release-state';
import { RegionRuns } from './release/region-runs';
import { appKey, versionKey } from './search-attributes';

export { gatesBefore } from './release/release-context';

/** The status shows `Paused` (and `meridian list --phase Paused` finds it) while an operator holds the release. */
export const pausedIsAPhasePatch = 'paused-is-a-phase';

/**
 * One global release: regions wave by wave, each in its own child workflow, with operators able to
 * pause, resume, approve, abort and amend it at any time. Before each wave its gates wait for an
 * approval, then its regions deploy and bake; a failed region halts the release until an operator
 * resumes (which retries it), skips or retries it, or aborts.
 */
export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseResult> {
  // Before anything else: a bake that is not a number would be no bake at all.
  if (patched(checksInputPatch)) {
    const problems = releaseInputProblems(input);
    if (problems.length > 0) throw refuseInput('release', problems);
  }
  const ctx = releaseContext(input);
  const state = new ReleaseState(
    { releaseId: input.releaseId, app: ctx.spec.metadata.app, version: ctx.spec.metadata.version, waves: ctx.waves },
    patched(pausedIsAPhasePatch),
  );
  const patches = {
    answersAfterEffect: patched(answersAfterEffectPatch),
    amendsOneAtATime: patched(amendsOneAtATimePatch),
  };
  ctx.metrics.releaseStarted(ctx.spec.metadata.app);
  const images = new ImageCopies(state, ctx.releaseRef, ctx.spec.spec.image.replication?.timeout ?? 10 * 60_000);
  const regions = new RegionRuns(ctx, state, images);
  registerOperatorHandlers(state, new Amendments(ctx, state, regions), images, patches);
  // Releases started before replication deploy by tag, as they began (asked here, after the handlers, as it always was).
  regions.deployByDigest = patched('replicate-images');

  await pauseIfFrozen(ctx, state);
  // Every registry gets the image from the start, in parallel, so that no wave waits for a copy.
  if (regions.deployByDigest) images.startAll(ctx.spec.spec.regions.map((r) => r.registry));

  state.setPhase('Running');
  for (let index = 0; index < ctx.waves.length && !state.isEnding(); index++) {
    state.enterWave(index);
    if (!(await passGates(ctx, state, index))) break;
    if (!(await bakeOwedBefore(state, index))) break;
    await runWave(ctx, state, regions, index);
  }
  return end(ctx, state, regions, images);
}

/**
 * A release started while its app is frozen (the CLI refuses, the temporal CLI does not) tells the
 * freeze and pauses itself before touching anything; unfreeze resumes it with the others.
 */
async function pauseIfFrozen(ctx: ReleaseContext, state: ReleaseState): Promise<void> {
  if (!patched('frozen-app-pauses-new-release')) return;
  const { app, version } = ctx.spec.metadata;
  // Started around the CLI, a release may lack the attributes that find it (list, freeze): set them.
  upsertSearchAttributes([
    { key: appKey, value: app },
    { key: versionKey, value: version },
  ]);
  const frozen = await getExternalWorkflowHandle(freezeIdOf(app))
    .signal(releaseStartedSignal, { releaseId: ctx.input.releaseId })
    .then(
      () => true,
      () => false, // no freeze holder runs: the app is not frozen
    );
  if (frozen && !state.paused && !state.isFinished()) {
    state.setPaused(true);
    state.record('pause', {
      by: 'freeze',
      reason: `freeze of ${app}: started while frozen; meridian unfreeze --app ${app} resumes it`,
    });
  }
}

/** Waits for every gate before wave `index` to be approved. False when the release was aborted meanwhile. */
async function passGates(ctx: ReleaseContext, state: ReleaseState, index: number): Promise<boolean> {
  for (const gate of gatesBefore(index - ctx.stagingWaves, ctx.rollout.approvals, ctx.firstWaveIsCanary)) {
    state.setGate(gate);
    state.setPhase('WaitingForApproval', `approval of gate ${gate} (meridian approve ${ctx.input.releaseId})`);
    await condition(() => state.approved.has(gate) || state.abort !== undefined);
    state.setGate(undefined);
    state.setPhase('Running');
  }
  return !state.abort;
}

/** A wave an operator added after the one before it had started: that wave did not bake, so bake here. False when aborted meanwhile. */
async function bakeOwedBefore(state: ReleaseState, index: number): Promise<boolean> {
  const owed = state.bakeOwed.get(index);
  if (!owed) return true;
  state.setPhase(
    'Running',
    `a bake of ${formatDuration(owed)} before wave ${index + 1}, which an operator added`,
    new Date(Date.now() + owed).toISOString(),
  );
  await condition(() => state.abort !== undefined, owed, {
    summary: `wave ${index + 1}: bake ${formatDuration(owed)}, owed before a wave an operator added`,
  });
  state.setPhase('Running');
  return !state.abort;
}

/**
 * Wave `index` until each of its regions succeeded (or was skipped or accepted), or the release
 * ends. A failure halts the release for an operator (onFailure rollback-all ends it instead).
 */
async function runWave(ctx: ReleaseContext, state: ReleaseState, regions: RegionRuns, index: number): Promise<void> {
  const planned = () =>
    ctx.waves[index].regions.filter((name) => state.phaseOf(name) !== 'Skipped' && !state.leaving.has(name));
  const notYetSucceeded = () => planned().filter((name) => state.resultOf(name)?.phase !== 'Succeeded');
  let pending = planned();
  for (;;) {
    await regions.runWave(index, pending);
    pending = notYetSucceeded();
    const failures = pending.filter((name) => state.hasRun(name));
    if (pending.length === 0 || state.abort) return;
    // Regions of the wave that never started (their failed neighbour was skipped) still go.
    if (failures.length === 0) continue;

    // Inconclusive bakes proved nothing either way: an operator accepts them, re-bakes them, or aborts.
    const inconclusive = failures.filter((name) => state.resultOf(name)?.phase === 'Inconclusive');
    if (inconclusive.length === failures.length) {
      const accepted = await haltOnInconclusive(ctx, state, regions, index, inconclusive);
      if (state.abort) return; // inconclusive regions are rolled back at the end, with the release
      // Regions of the wave that never started still go.
      if (accepted) pending = pending.filter((name) => !inconclusive.includes(name));
      if (pending.length === 0) return;
      continue;
    }

    const summary = failures.map((name) => `${name}: ${state.resultOf(name)?.error ?? 'failed'}`).join('; ');
    if (ctx.rollout.onFailure === 'rollback-all') {
      state.setPhase('Running', 'rolling back every region the release reached');
      await regions.rollBackSucceeded();
      recordTimeToHalt(ctx, state, failures);
      state.failed = summary;
      return;
    }
    const retryOnly = await haltOnFailures(ctx, state, failures, summary);
    if (state.abort) {
      state.failed = summary;
      return;
    }
    // Retrying some regions runs just those; the others still hold the release when they are done.
    pending = retryOnly ?? notYetSucceeded();
  }
}

/**
 * Halts until an operator accepts the wave's inconclusive regions (approve), bakes them again (resume)
 * or aborts. True when accepted. Each halt asks anew: a later inconclusive bake needs its own approval.
 */
async function haltOnInconclusive(
  ctx: ReleaseContext,
  state: ReleaseState,
  regions: RegionRuns,
  index: number,
  inconclusive: string[],
): Promise<boolean> {
  const gate = `accept-wave-${index + 1}`;
  state.setGate(
    gate,
    inconclusive.map((name) => `${name}: ${state.resultOf(name)?.error ?? 'inconclusive'}`).join('; '),
  );
  state.setPhase(
    'Halted',
    `an operator: approve accepts ${inconclusive.join(', ')} as they are; resume bakes them again; abort ends the release and rolls them back`,
  );
  await condition(() => state.approved.has(gate) || state.resumeAfterHalt || state.abort !== undefined);
  const accepted = state.approved.has(gate);
  // A resume that came with the approval does not carry over to the next halt either.
  state.approved.delete(gate);
  state.resumeAfterHalt = false;
  state.setGate(undefined);
  if (state.abort) return false;
  if (accepted) for (const name of inconclusive) regions.accept(name);
  // Back to Running in the same step that saw the halt lift: an update that lifted it answers after this.
  state.setPhase('Running');
  if (accepted) await regions.giveAcceptedTheirUsers(inconclusive);
  return accepted;
}

/**
 * Halts on failed regions until an operator resumes (retrying every region of the wave not yet
 * through), retries some (returned: just those run), skips them all, or aborts.
 */
async function haltOnFailures(
  ctx: ReleaseContext,
  state: ReleaseState,
  failures: string[],
  summary: string,
): Promise<string[] | undefined> {
  state.status.reason = summary;
  state.haltedOn = failures;
  state.setPhase(
    'Halted',
    `an operator: resume retries ${failures.join(', ')}; skip-region and retry-region act on one; abort ends the release`,
  );
  recordTimeToHalt(ctx, state, failures);
  await condition(
    () =>
      state.resumeAfterHalt ||
      state.abort !== undefined ||
      state.retryNow.size > 0 ||
      failures.every((name) => state.phaseOf(name) === 'Skipped'),
  );
  state.haltedOn = [];
  if (state.abort) return undefined;
  const retryOnly =
    !state.resumeAfterHalt && state.retryNow.size > 0 ? failures.filter((name) => state.retryNow.has(name)) : undefined;
  state.retryNow.clear();
  state.resumeAfterHalt = false;
  state.status.reason = undefined;
  state.setPhase('Running');
  return retryOnly;
}

/** From the earliest of these failures to now (the release halted or rolled back), for the time-to-halt metric. */
function recordTimeToHalt(ctx: ReleaseContext, state: ReleaseState, failures: string[]): void {
  const first = failures
    .map((name) => ({ name, at: state.resultOf(name)?.failedAt ?? Date.now() }))
    .reduce((a, b) => (b.at < a.at ? b : a));
  ctx.metrics.timeToHalt(Date.now() - first.at, first.name, ctx.rollout.onFailure);
}

/**
 * The end: regions still running (an abort rolls them back), amendments under way and image copies
 * stop first; a release that did not succeed leaves no region on a version whose bake proved nothing.
 */
async function end(
  ctx: ReleaseContext,
  state: ReleaseState,
  regions: RegionRuns,
  images: ImageCopies,
): Promise<ReleaseResult> {
  const { releaseId } = ctx.input;
  const { app } = ctx.spec.metadata;
  await condition(() => state.running.size === 0 && allHandlersFinished());
  await images.settle();
  const unproven = state.status.regions
    .filter((r) => state.resultOf(r.name)?.phase === 'Inconclusive')
    .map((r) => r.name);
  if (state.isEnding() && unproven.length > 0) {
    await regions.rollBack(
      unproven,
      `rolled back: its bake was inconclusive and the release ${state.abort ? 'was aborted' : 'failed'}`,
    );
  }
  const results = state.orderedResults();
  if (state.failed) {
    state.status.reason = state.failed;
    state.setPhase('Failed');
    ctx.metrics.releaseEnded(app, 'Failed');
    throw ApplicationFailure.nonRetryable(`release ${releaseId} failed: ${state.failed}`, 'ReleaseFailed', {
      ...state.status,
      results,
    });
  }
  if (state.abort) {
    state.status.reason = describeAbort(state.abort);
    state.setPhase('Aborted');
    ctx.metrics.releaseEnded(app, 'Aborted');
    throw ApplicationFailure.nonRetryable(`release ${releaseId} ${state.status.reason}`, 'ReleaseAborted', {
      ...state.status,
      results,
    });
  }
  state.setPhase('Succeeded');
  ctx.metrics.releaseEnded(app, 'Succeeded');
  return { ...state.status, results };
}
