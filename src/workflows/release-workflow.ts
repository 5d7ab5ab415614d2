import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  type ChildWorkflowHandle,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { replicating, restoring, rollingOut } from './activity-proxies';
import { formatDuration } from '../domain/duration';
import { describeReplication, type ReplicatedImage } from '../domain/image-replication';
import { type AmendableRelease, type Amendment, type AmendmentEffect, describeAmendment, firstOpenWave, planAmendment } from '../domain/plan-amendments';
import { boundedIdentity, type OperatorMessage, readOperatorRequest } from '../domain/operator-requests';
import { type RegionInput, type ReleaseInput, releaseInputProblems, type ReleaseRef } from '../domain/release-input';
import { type RegionStatus, type ReleasePhase, type ReleaseStatus } from '../domain/release-status';
import { planRelease, stagingWavesOf } from '../domain/rollout-plan';
import {
  abortSignal,
  abortUpdate,
  addRegionUpdate,
  type AddRegionRequest,
  type AmendRequest,
  approveSignal,
  approveUpdate,
  type ApproveRequest,
  moveRegionUpdate,
  type MoveRegionRequest,
  type OperatorRequest,
  pauseSignal,
  pauseUpdate,
  type RegionResult,
  type ReleaseResult,
  resumeSignal,
  resumeUpdate,
  retryRegionUpdate,
  skipRegionUpdate,
  statusQuery,
} from './definitions';
import { describeAbort, describeFailure } from './failures';
import { freezeIdOf, releaseStartedSignal } from './freeze-workflow';
import { regionWorkflow, rolloutTimeoutMs } from './region-workflow';
import { releaseMetrics } from './release-metrics';
import { appKey, phaseKey, regionKey, versionKey } from './search-attributes';
import { checksInputPatch, maxRecordedRefusals, refuseInput } from './input-checks';
import { senderIdentity } from './sender-identity';
import { imageStep, regionChildDetails, regionChildSummary, regionStep, releaseDetails } from './timeline';


/** The gates an operator must approve before wave `index` (0-based) starts. */
export function gatesBefore(index: number, approvals: readonly string[], firstWaveIsCanary: boolean): string[] {
  return approvals.filter((gate) => (gate === 'after-canary' ? firstWaveIsCanary && index === 1 : gate === `after-wave-${index}`));
}

/**
 * One global release: regions wave by wave, each in its own child workflow, with operators able to
 * pause, resume, approve and abort at any time. A failed region halts the release until an operator
 * resumes (which retries it) or aborts.
 */
export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseResult> {
  // Before anything else: a bake that is not a number would be no bake at all.
  if (patched(checksInputPatch)) {
    const problems = releaseInputProblems(input);
    if (problems.length > 0) throw refuseInput('release', problems);
  }
  const { spec } = input;
  const rollout = spec.spec.rollout;
  const plan = input.plan ?? planRelease(spec, input.overrides, input.timeToSmoke?.ms, 'spec-order');
  // The digest `start` resolved in the source, when it could: every copy is of exactly that image.
  const image: ReleaseRef['image'] = input.imageDigest ? { ...spec.spec.image, digest: input.imageDigest } : spec.spec.image;
  const releaseRef = { releaseId: input.releaseId, app: spec.metadata.app, version: spec.metadata.version, image };
  const regionsByName = new Map(spec.spec.regions.map((r) => [r.name, r]));
  // The plan as amended in flight (skip, retry, add, move): the status shows it as it stands.
  const waves = plan.waves.map((w) => ({ regions: [...w.regions], bakeMs: w.bakeMs }));
  // Gates count production waves: a staging wave in front does not shift after-canary or after-wave-N.
  const stagingWaves = stagingWavesOf(plan);
  const firstWaveIsCanary = plan.waves[stagingWaves].regions.every((name) => regionsByName.get(name)?.canary);

  const status: ReleaseStatus = {
    releaseId: input.releaseId,
    app: spec.metadata.app,
    version: spec.metadata.version,
    phase: 'Pending',
    wave: 0,
    waves,
    regions: plan.waves.flatMap((w, i) => w.regions.map((name) => ({ name, wave: i + 1, phase: 'Pending' as const, attempts: 0 }))),
    paused: false,
    actions: [],
  };
  const results = new Map<string, RegionResult>();
  const running = new Map<string, ChildWorkflowHandle<typeof regionWorkflow>>();
  const approved = new Set<string>();
  let abort: OperatorRequest | undefined;
  /** Why the release failed, once it has. */
  let failed: string | undefined;
  let resumeAfterHalt = false;
  /** Failed regions the release is halted on, and those an operator asked to run again now. */
  let haltedOn: string[] = [];
  const retryNow = new Set<string>();
  /** Regions an operator skipped that are being rolled back: nothing starts them meanwhile. */
  const leaving = new Set<string>();
  /** Bakes owed before a wave an operator added (wave index → ms). */
  const bakeOwed = new Map<number, number>();

  const metrics = releaseMetrics();
  metrics.releaseStarted(spec.metadata.app);
  /** The release's current details in the Web UI: called wherever the status changes. */
  const showDetails = () => setCurrentDetails(releaseDetails(status));

  const setPhase = (phase: ReleasePhase, waitingFor?: string, until?: string) => {
    if (status.phase !== phase) upsertSearchAttributes([{ key: phaseKey, value: phase }]);
    Object.assign(status, { phase, waitingFor, until });
    showDetails();
  };
  /** Records an operator action: by whom the request says, else the identity Temporal reported for its sender. */
  const record = (action: string, request: OperatorRequest | undefined, sender?: string) => {
    status.actions.push({ action, by: request?.by ?? sender ?? 'unknown', reason: request?.reason, at: new Date(Date.now()).toISOString() });
    showDetails();
  };
  let refusedSignals = 0;
  /** A signal whose payload is refused changes nothing: it is logged, and recorded (the first few) for status readers. */
  const refuseSignal = (message: OperatorMessage, why: string, sender: string | undefined) => {
    log.warn('operator signal refused', { release: input.releaseId, signal: message, reason: why, sender });
    if (++refusedSignals > maxRecordedRefusals) return;
    const more = refusedSignals === maxRecordedRefusals ? ` (later refusals are logged only)` : '';
    status.actions.push({ action: `refused ${message} signal`, by: sender ?? 'unknown', reason: `${why}${more}`, at: new Date(Date.now()).toISOString() });
    showDetails();
  };
  /**
   * A signal handler that reads its payload first (patched: signals of releases that ran before are
   * taken as they came). Signals carry no answer, so a refusal is recorded instead of thrown.
   */
  const onSignal =
    <R extends OperatorRequest>(message: OperatorMessage, act: (request: R | undefined, sender?: string) => void) =>
    (payload?: unknown) => {
      if (!patched(checksInputPatch)) return act(payload as R | undefined);
      const sender = boundedIdentity(senderIdentity());
      const read = readOperatorRequest(message, payload, true);
      if (!read.ok) return refuseSignal(message, read.refused, sender);
      act(read.request as R, sender);
    };
  /** An update's validator: the payload's shape first, then `check` on what it asks. */
  const validUpdate =
    <R>(message: OperatorMessage, check: (request: R) => void = () => undefined) =>
    (payload: unknown) => {
      const read = readOperatorRequest(message, payload, message === 'pause' || message === 'resume' || message === 'abort' || message === 'approve');
      if (!read.ok) throw ApplicationFailure.nonRetryable(read.refused, 'InvalidOperatorRequest');
      check(read.request as R);
    };
  /**
   * An update's handler, on the payload as its validator read it. Validators do not run on replay: a
   * payload accepted before they read it (none that the CLI sends) is taken as it came.
   */
  const onUpdate =
    <R, T>(message: OperatorMessage, act: (request: R, sender?: string) => T) =>
    (payload: R): T => {
      const read = readOperatorRequest(message, payload, true);
      return act((read.ok ? read.request : payload) as R, boundedIdentity(senderIdentity()));
    };
  const forward = (signal: typeof pauseSignal | typeof resumeSignal | typeof abortSignal, request?: OperatorRequest) => {
    for (const [name, child] of running) {
      child.signal(signal, request).catch((err) => log.warn('could not reach region workflow', { region: name, error: String(err) }));
    }
  };

  // Operator actions. Each is idempotent: asking twice does what asking once did.
  const pause = (request?: OperatorRequest, sender?: string) => {
    if (status.paused || isFinished()) return status;
    status.paused = true;
    record('pause', request, sender);
    forward(pauseSignal, request);
    return status;
  };
  // One resume lifts both a halt (retrying the failed regions) and a pause.
  const resume = (request?: OperatorRequest, sender?: string) => {
    const halted = status.phase === 'Halted' && !resumeAfterHalt;
    if (!halted && !status.paused) return status;
    if (halted) resumeAfterHalt = true;
    if (status.paused) {
      status.paused = false;
      forward(resumeSignal, request);
    }
    record('resume', request, sender);
    return status;
  };
  const approve = (request?: ApproveRequest, sender?: string) => {
    const gate = request?.gate ?? status.gate;
    if (gate && !approved.has(gate)) {
      approved.add(gate);
      record(`approve ${gate}`, request, sender);
    }
    return status;
  };
  const validateApproval = (request?: ApproveRequest) => {
    const gate = request?.gate ?? status.gate;
    if (!gate) throw new Error(`no gate is waiting for approval (the release is ${status.phase})`);
    if (!approved.has(gate) && gate !== status.gate) throw new Error(`gate "${gate}" is not waiting; the waiting gate is ${status.gate ?? 'none'}`);
  };
  const abortRelease = (request?: OperatorRequest, sender?: string) => {
    if (abort || isFinished()) return status;
    // The abort's reason names the sender Temporal reported when the request names nobody.
    abort = { ...request, ...(request?.by === undefined && sender ? { by: sender } : {}) };
    record('abort', request, sender);
    copies.cancel();
    forward(abortSignal, request);
    return status;
  };
  const isFinished = () => ['Succeeded', 'Failed', 'Aborted'].includes(status.phase);

  setHandler(statusQuery, () => status);
  setHandler(pauseSignal, onSignal('pause', (request, sender) => void pause(request, sender)));
  setHandler(resumeSignal, onSignal('resume', (request, sender) => void resume(request, sender)));
  setHandler(
    approveSignal,
    onSignal<ApproveRequest>('approve', (request, sender) => {
      try {
        validateApproval(request);
        approve(request, sender);
      } catch (err) {
        log.warn('approve signal ignored', { reason: String(err) });
      }
    }),
  );
  setHandler(abortSignal, onSignal('abort', (request, sender) => void abortRelease(request, sender)));
  setHandler(pauseUpdate, onUpdate('pause', pause), { validator: validUpdate('pause') });
  setHandler(resumeUpdate, onUpdate('resume', resume), {
    validator: validUpdate('resume', () => {
      if (!status.paused && status.phase !== 'Halted') throw new Error(`nothing to resume: the release is ${status.phase}`);
    }),
  });
  setHandler(approveUpdate, onUpdate('approve', approve), { validator: validUpdate('approve', validateApproval) });
  setHandler(abortUpdate, onUpdate('abort', abortRelease), {
    validator: validUpdate('abort', () => {
      if (isFinished()) throw new Error(`the release already ended ${status.phase}`);
    }),
  });

  // Amendments: skip, retry, add or move a region. The validator refuses what would break the plan's rules.
  const phaseOf = (name: string) => status.regions.find((r) => r.name === name)?.phase;
  const amendable = (): AmendableRelease => ({
    phase: status.phase,
    wave: status.wave,
    waves,
    regions: status.regions,
    specs: regionsByName,
    haltedOn,
    byTraits: plan.waves.some((w) => w.newTraits !== undefined),
    ending: abort !== undefined ? 'aborted' : failed !== undefined ? 'failed' : undefined,
  });
  const validateAmendment = (amendment: Amendment, request: OperatorRequest | undefined) => {
    if (!request?.reason?.trim()) throw new Error('give a reason (--reason TEXT): every amendment is recorded with who asked and why');
    planAmendment(amendable(), amendment);
  };
  const amend = async (amendment: Amendment, request: OperatorRequest, sender?: string): Promise<ReleaseStatus> => {
    const effect = planAmendment(amendable(), amendment);
    if (effect.kind !== 'none') {
      await applyAmendment(effect, `${describeAmendment(effect)} by ${request.by ?? sender ?? 'unknown'}: ${request.reason}`);
      record(describeAmendment(effect), request, sender);
    }
    return status;
  };
  setHandler(
    skipRegionUpdate,
    onUpdate('skip-region', (request: AmendRequest, sender) => amend({ kind: 'skip', region: request.region }, request, sender)),
    { validator: validUpdate('skip-region', (request: AmendRequest) => validateAmendment({ kind: 'skip', region: request.region }, request)) },
  );
  setHandler(
    retryRegionUpdate,
    onUpdate('retry-region', (request: AmendRequest, sender) => amend({ kind: 'retry', region: request.region }, request, sender)),
    { validator: validUpdate('retry-region', (request: AmendRequest) => validateAmendment({ kind: 'retry', region: request.region }, request)) },
  );
  setHandler(
    moveRegionUpdate,
    onUpdate('move-region', (request: MoveRegionRequest, sender) => amend({ kind: 'move', region: request.region, toWave: request.toWave }, request, sender)),
    {
      validator: validUpdate('move-region', (request: MoveRegionRequest) =>
        validateAmendment({ kind: 'move', region: request.region, toWave: request.toWave }, request),
      ),
    },
  );
  setHandler(
    addRegionUpdate,
    onUpdate('add-region', (request: AddRegionRequest, sender) => amend({ kind: 'add', region: request.region, toWave: request.wave }, request, sender)),
    { validator: validUpdate('add-region', (request: AddRegionRequest) => validateAmendment({ kind: 'add', region: request.region, toWave: request.wave }, request)) },
  );

  // Images. Releases started before replication deploy by tag, as they began.
  const replicatesImages = patched('replicate-images');
  const replications = new Map<string, Promise<ReplicatedImage | { error: string }>>();
  /** The copies under way: cancelled when the release is aborted or ends, so none outlives it. */
  const copies = new CancellationScope();
  const replicate = (registry: string): Promise<ReplicatedImage | { error: string }> => {
    const timeoutMs = spec.spec.image.replication?.timeout ?? 10 * 60_000;
    setRegistry({ registry, phase: 'Replicating' });
    const copy = copies
      .run(() => replicating(timeoutMs).replicateImage.executeWithOptions({ summary: imageStep(releaseRef.image, registry) }, [{ release: releaseRef, registry }]))
      .then(
        (done) => {
          setRegistry({ registry, phase: 'Ready', digest: done.digest, detail: describeReplication(done) });
          return done;
        },
        (err) => {
          const error = describeFailure(err);
          setRegistry({ registry, phase: 'Failed', detail: error });
          return { error };
        },
      );
    replications.set(registry, copy);
    return copy;
  };
  /** The digest a region deploys, once its registry has the image; a retried region copies again after a failure. */
  const imageFor = async (name: string): Promise<string> => {
    const registry = regionsByName.get(name)!.registry;
    const first = replications.get(registry) ?? replicate(registry);
    let replication = await first;
    if ('error' in replication) {
      // A copy that failed earlier (at the start, or for a region before) is tried again, once per failure.
      const newer = replications.get(registry);
      replication = await (newer !== first ? newer! : replicate(registry));
    }
    if ('error' in replication) throw new Error(`the image is not in ${registry}: ${replication.error}`);
    // Every region runs the same bits: a registry holding another digest means the tag moved mid-release.
    const expected = releaseRef.image.digest ?? [...(status.registries ?? [])].find((r) => r.phase === 'Ready' && r.digest)?.digest;
    if (expected && replication.digest !== expected) {
      throw new Error(`${registry} holds ${replication.digest} for ${spec.spec.image.name}:${spec.spec.image.tag}, not ${expected}: the tag moved during the release; release the new image as a new release`);
    }
    return replication.digest;
  };
  function setRegistry(entry: NonNullable<ReleaseStatus['registries']>[number]): void {
    const registries = (status.registries ??= []);
    const i = registries.findIndex((r) => r.registry === entry.registry);
    if (i >= 0) registries[i] = entry;
    else registries.push(entry);
    showDetails();
  }

  /** A region that ends before its workflow started: nothing was deployed there. */
  const abandon = (name: string, attempt: number, why: string): RegionResult => {
    const result: RegionResult = { name, phase: 'Aborted', attempt, error: why };
    results.set(name, result);
    updateRegion(name, { phase: 'Aborted', error: why, waitingFor: undefined });
    return result;
  };

  const runRegion = async (name: string): Promise<RegionResult> => {
    const entry = status.regions.find((r) => r.name === name)!;
    const attempt = entry.attempts + 1;
    const workflowId = `${input.releaseId}.${name}.${attempt}`;
    // The region's own workflow knows its step; status readers ask it (the parent's history stays small).
    status.regions[status.regions.indexOf(entry)] = { name, wave: entry.wave, phase: 'Running', attempts: attempt, workflowId, ...(entry.note ? { note: entry.note } : {}) };
    showDetails();
    const regionInput: RegionInput = {
      release: releaseRef,
      region: regionsByName.get(name)!,
      wave: entry.wave,
      template: input.template,
      values: spec.spec.template.values,
      checks: input.checks,
      bakeMs: waves[entry.wave - 1].bakeMs,
      onFailure: rollout.onFailure,
      attempt,
      load: loadFor(name),
      analysis: analysisSpec(),
      prometheusUrl: spec.spec.validation.prometheus?.url,
    };
    let result: RegionResult;
    try {
      if (replicatesImages) {
        const i = status.regions.findIndex((r) => r.name === name);
        const registry = regionsByName.get(name)!.registry;
        status.regions[i] = { ...status.regions[i], phase: 'Replicating', waitingFor: `the image in ${registry}` };
        showDetails();
        const abortedMeanwhile = condition(() => abort !== undefined).then(() => undefined);
        const copying = imageFor(name);
        copying.catch(() => undefined); // an abort may win the race: its failure is then nobody's
        const digest = await Promise.race([copying, abortedMeanwhile]);
        // Aborted while the image was on its way: the region was never touched.
        if (abort || digest === undefined) return abandon(name, attempt, describeAbort(abort ?? {}));
        status.regions[i] = { ...status.regions[i], phase: 'Running', waitingFor: undefined };
        showDetails();
        regionInput.release = { ...releaseRef, image: { ...releaseRef.image, digest } };
      }
      const child = await startChild(regionWorkflow, {
        workflowId,
        args: [regionInput],
        staticSummary: regionChildSummary(regionInput),
        staticDetails: regionChildDetails(regionInput),
        typedSearchAttributes: [
          { key: appKey, value: spec.metadata.app },
          { key: versionKey, value: spec.metadata.version },
          { key: regionKey, value: name },
          { key: phaseKey, value: 'Pending' },
        ],
      });
      running.set(name, child);
      if (status.paused) child.signal(pauseSignal).catch(() => undefined);
      result = await child.result();
    } catch (err) {
      result = { name, phase: 'Failed', attempt, error: describeFailure(err), failedAt: Date.now() };
    } finally {
      running.delete(name);
    }
    results.set(name, result);
    metrics.regionEnded(result);
    const i = status.regions.findIndex((r) => r.name === name);
    status.regions[i] = {
      ...status.regions[i],
      phase: result.phase,
      error: result.error,
      waitingFor: undefined,
      until: undefined,
      ...(result.load ? { load: result.load } : {}),
      ...(result.analysis ? { analysis: result.analysis } : {}),
    };
    showDetails();
    return result;
  };

  /** Runs regions up to maxParallel at once; stops starting new ones after a failure or an abort. */
  const runRegions = async (index: number, names: string[]): Promise<RegionResult[]> => {
    const queue = [...names];
    const done: RegionResult[] = [];
    const stop = () => abort !== undefined || done.some((r) => r.phase !== 'Succeeded');
    // A queued region an operator skipped or moved to a later wave meanwhile is left out.
    const stillQueued = (name: string) => !leaving.has(name) && status.regions.some((r) => r.name === name && r.wave === index + 1 && r.phase !== 'Skipped');
    const lane = async () => {
      while (queue.length > 0 && !stop()) {
        await condition(() => !status.paused || abort !== undefined);
        if (stop()) break;
        const name = queue.shift()!;
        if (stillQueued(name)) done.push(await runRegion(name));
      }
    };
    await Promise.all(Array.from({ length: Math.min(plan.maxParallel, names.length) }, lane));
    return done;
  };

  // A release started while its app is frozen (the CLI refuses, the temporal CLI does not) tells the
  // freeze and pauses itself before touching anything; unfreeze resumes it with the others.
  if (patched('frozen-app-pauses-new-release')) {
    // Started around the CLI, a release may lack the attributes that find it (list, freeze): set them.
    upsertSearchAttributes([
      { key: appKey, value: spec.metadata.app },
      { key: versionKey, value: spec.metadata.version },
    ]);
    const frozen = await getExternalWorkflowHandle(freezeIdOf(spec.metadata.app))
      .signal(releaseStartedSignal, { releaseId: input.releaseId })
      .then(
        () => true,
        () => false, // no freeze holder runs: the app is not frozen
      );
    if (frozen) pause({ by: 'freeze', reason: `freeze of ${spec.metadata.app}: started while frozen; meridian unfreeze --app ${spec.metadata.app} resumes it` });
  }

  // Every registry gets the image from the start, in parallel, so that no wave waits for a copy.
  if (replicatesImages) {
    status.registries = [];
    for (const registry of new Set(spec.spec.regions.map((r) => r.registry))) replicate(registry);
  }

  setPhase('Running');
  for (let index = 0; index < waves.length && !abort && !failed; index++) {
    status.wave = index + 1;
    showDetails();
    for (const gate of gatesBefore(index - stagingWaves, rollout.approvals, firstWaveIsCanary)) {
      status.gate = gate;
      setPhase('WaitingForApproval', `approval of gate ${gate} (meridian approve ${input.releaseId})`);
      await condition(() => approved.has(gate) || abort !== undefined);
      status.gate = undefined;
      setPhase('Running');
    }
    if (abort) break;
    // A wave an operator added after the one before it had started: that wave did not bake, so bake here.
    const owed = bakeOwed.get(index);
    if (owed) {
      setPhase('Running', `a bake of ${formatDuration(owed)} before wave ${index + 1}, which an operator added`, new Date(Date.now() + owed).toISOString());
      await condition(() => abort !== undefined, owed, { summary: `wave ${index + 1}: bake ${formatDuration(owed)}, owed before a wave an operator added` });
      setPhase('Running');
      if (abort) break;
    }

    const planned = () => waves[index].regions.filter((name) => phaseOf(name) !== 'Skipped' && !leaving.has(name));
    let pending = planned();
    for (;;) {
      await runRegions(index, pending);
      pending = planned().filter((name) => results.get(name)?.phase !== 'Succeeded');
      const failures = pending.filter((name) => results.has(name));
      if (pending.length === 0 || abort) break;
      // Regions of the wave that never started (their failed neighbour was skipped) still go.
      if (failures.length === 0) continue;

      // Inconclusive bakes proved nothing either way: an operator accepts them, re-bakes them, or aborts.
      const inconclusive = failures.filter((name) => results.get(name)?.phase === 'Inconclusive');
      if (inconclusive.length === failures.length) {
        const gate = `accept-wave-${index + 1}`;
        status.gate = gate;
        status.reason = failures.map((name) => `${name}: ${results.get(name)?.error ?? 'inconclusive'}`).join('; ');
        setPhase('Halted', `an operator: approve accepts ${inconclusive.join(', ')} as they are; resume bakes them again; abort ends the release and rolls them back`);
        await condition(() => approved.has(gate) || resumeAfterHalt || abort !== undefined);
        const accepted = approved.has(gate);
        // Each halt asks anew: a later inconclusive bake in this wave needs its own approval, and a
        // resume that came with the approval does not carry over to the next halt.
        approved.delete(gate);
        resumeAfterHalt = false;
        status.gate = undefined;
        status.reason = undefined;
        if (abort) break; // inconclusive regions are rolled back below, with the release
        if (accepted) {
          for (const name of inconclusive) accept(name);
          // Regions of the wave that never started still go.
          pending = pending.filter((name) => !inconclusive.includes(name));
        }
        setPhase('Running');
        if (pending.length === 0) break;
        continue;
      }

      const summary = failures.map((name) => `${name}: ${results.get(name)?.error ?? 'failed'}`).join('; ');
      if (rollout.onFailure === 'rollback-all') {
        setPhase('Running', 'rolling back every region the release reached');
        await rollBackSucceeded();
        recordTimeToHalt(failures);
        failed = summary;
        break;
      }
      status.reason = summary;
      haltedOn = failures;
      setPhase('Halted', `an operator: resume retries ${failures.join(', ')}; skip-region and retry-region act on one; abort ends the release`);
      recordTimeToHalt(failures);
      await condition(() => resumeAfterHalt || abort !== undefined || retryNow.size > 0 || failures.every((name) => phaseOf(name) === 'Skipped'));
      haltedOn = [];
      if (abort) {
        failed = summary;
        break;
      }
      // Retrying some regions runs just those; the others still hold the release when they are done.
      if (!resumeAfterHalt && retryNow.size > 0) pending = failures.filter((name) => retryNow.has(name));
      else pending = planned().filter((name) => results.get(name)?.phase !== 'Succeeded');
      retryNow.clear();
      resumeAfterHalt = false;
      status.reason = undefined;
      setPhase('Running');
    }
  }

  // Wait for regions still running (an abort rolls them back) and amendments under way before ending.
  await condition(() => running.size === 0 && allHandlersFinished());
  // Copies still under way (an abort, a failure) are cancelled, and the release ends once they stopped.
  if (replications.size > 0) {
    copies.cancel();
    await Promise.all(replications.values());
  }
  // A release that does not succeed leaves no region on a version whose bake proved nothing.
  const unproven = status.regions.filter((r) => results.get(r.name)?.phase === 'Inconclusive').map((r) => r.name);
  if ((failed || abort) && unproven.length > 0) {
    await rollBack(unproven, `rolled back: its bake was inconclusive and the release ${abort ? 'was aborted' : 'failed'}`);
  }
  const ordered = status.regions.map((r) => results.get(r.name)).filter((r): r is RegionResult => r !== undefined);
  if (failed) {
    status.reason = failed;
    setPhase('Failed');
    metrics.releaseEnded(spec.metadata.app, 'Failed');
    throw ApplicationFailure.nonRetryable(`release ${input.releaseId} failed: ${failed}`, 'ReleaseFailed', { ...status, results: ordered });
  }
  if (abort) {
    status.reason = describeAbort(abort);
    setPhase('Aborted');
    metrics.releaseEnded(spec.metadata.app, 'Aborted');
    throw ApplicationFailure.nonRetryable(`release ${input.releaseId} ${status.reason}`, 'ReleaseAborted', { ...status, results: ordered });
  }
  setPhase('Succeeded');
  metrics.releaseEnded(spec.metadata.app, 'Succeeded');
  return { ...status, results: ordered };

  /** Applies an accepted amendment to the plan and the status. */
  async function applyAmendment(effect: Exclude<AmendmentEffect, { kind: 'none' }>, note: string): Promise<void> {
    switch (effect.kind) {
      case 'skip': {
        // A region that failed and was left as it is goes back to what it ran: skipped means not released
        // there. Meanwhile it is leaving: a resume or retry does not start it again.
        leaving.add(effect.region);
        try {
          const notBack = effect.rollBack ? await rollBack([effect.region], 'skipped by an operator') : [];
          if (notBack.length > 0) {
            throw ApplicationFailure.nonRetryable(`${effect.region} was not skipped: ${status.regions.find((r) => r.name === effect.region)?.error}`, 'SkipFailed');
          }
        } finally {
          leaving.delete(effect.region);
        }
        updateRegion(effect.region, { phase: 'Skipped', note });
        return;
      }
      case 'retry-now':
        retryNow.add(effect.region);
        updateRegion(effect.region, { note });
        return;
      case 'requeue':
      case 'move':
        placeIn(effect.region, effect.toWave);
        updateRegion(effect.region, { phase: 'Pending', wave: effect.toWave, note });
        return;
      case 'add':
        regionsByName.set(effect.region.name, effect.region);
        status.regions.push({ name: effect.region.name, wave: effect.toWave, phase: 'Pending', attempts: 0, note });
        placeIn(effect.region.name, effect.toWave);
        return;
    }
  }

  function updateRegion(name: string, change: Partial<RegionStatus>): void {
    const i = status.regions.findIndex((r) => r.name === name);
    status.regions[i] = { ...status.regions[i], ...change };
    showDetails();
  }

  /** From the earliest of these failures to now (the release halted or rolled back), for the time-to-halt metric. */
  function recordTimeToHalt(failures: string[]): void {
    const first = failures
      .map((name) => ({ name, at: results.get(name)?.failedAt ?? Date.now() }))
      .reduce((a, b) => (b.at < a.at ? b : a));
    metrics.timeToHalt(Date.now() - first.at, first.name, rollout.onFailure);
  }

  /** Moves a region into a wave (one past the last adds a wave, baking as production waves do). */
  function placeIn(name: string, toWave: number): void {
    for (const wave of waves) {
      const i = wave.regions.indexOf(name);
      if (i >= 0) wave.regions.splice(i, 1);
    }
    if (toWave > waves.length) {
      const last = waves.length - 1;
      const bakeMs = input.overrides.bakeMs ?? input.timeToSmoke?.ms ?? rollout.timeToSmoke.floor;
      // The wave that was last baked for nothing: it bakes now, in its regions if they have not started, else before the new wave.
      if (waves[last].bakeMs === 0) {
        waves[last].bakeMs = bakeMs;
        if (firstOpenWave(status) > last + 1) bakeOwed.set(waves.length, bakeMs);
      }
      waves.push({ regions: [], bakeMs: 0 });
    }
    waves[toWave - 1].regions.push(name);
  }

  /** The load test a region runs: staging regions, when the spec asks for one. */
  function loadFor(name: string): RegionInput['load'] {
    const load = spec.spec.validation.load;
    if (!load || !input.traffic || regionsByName.get(name)?.role !== 'staging') return undefined;
    return { spec: load, traffic: input.traffic, durationMs: input.overrides.loadDurationMs ?? load.duration };
  }

  function analysisSpec(): RegionInput['analysis'] {
    const analysis = spec.spec.validation.analysis;
    const interval = input.overrides.analysisIntervalMs;
    return analysis && interval !== undefined ? { ...analysis, interval } : analysis;
  }

  /** An operator accepted an inconclusive region: it counts as succeeded, and the status says who said so. */
  function accept(name: string): void {
    const who = status.actions.filter((a) => a.action.startsWith('approve')).at(-1)?.by ?? 'an operator';
    results.set(name, { ...results.get(name)!, phase: 'Succeeded' });
    metrics.regionDeployed(name);
    updateRegion(name, { phase: 'Succeeded', error: `inconclusive bake accepted by ${who}` });
  }

  /** Rolls regions back (newest first) and marks them so. */
  /** Rolls regions back, newest first; one that cannot be rolled back is marked Failed and the others still go. Returns those. */
  async function rollBack(names: string[], why: string): Promise<string[]> {
    const notBack: string[] = [];
    for (const name of [...names].reverse()) {
      const i = status.regions.findIndex((s) => s.name === name);
      updateRegion(name, { phase: 'RollingBack' });
      const step = { release: releaseRef, region: regionsByName.get(name)! };
      try {
        const undone = await restoring.rollbackRegion.executeWithOptions({ summary: regionStep(name, `roll back (${why})`) }, [step]);
        // Back means running what it ran before: wait for the restored Deployments to roll out.
        if (patched('release-rollback-waits-for-rollout') && undone.deployments?.length) {
          await rollingOut.waitForRollout.executeWithOptions({ summary: regionStep(name, 'wait for the rollback to roll out') }, [
            { ...step, deployments: undone.deployments, timeoutMs: rolloutTimeoutMs },
          ]);
        }
      } catch (err) {
        const error = `could not roll back (${why}): ${describeFailure(err)}`;
        updateRegion(name, { phase: 'Failed', error });
        results.set(name, { ...(results.get(name) ?? { name, attempt: status.regions[i].attempts }), phase: 'Failed', error });
        notBack.push(name);
        continue;
      }
      updateRegion(name, { phase: 'RolledBack', error: why });
      metrics.regionRolledBack(name, 'release');
      results.set(name, { ...results.get(name)!, phase: 'RolledBack', error: why });
    }
    return notBack;
  }

  async function rollBackSucceeded(): Promise<void> {
    const reached = status.regions.filter((r) => results.get(r.name)?.phase === 'Succeeded').map((r) => r.name);
    await rollBack(reached, 'rolled back with the release (onFailure: rollback-all)');
  }
}
