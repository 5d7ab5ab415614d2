import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  checking,
  deploying,
  loadTesting,
  quick,
  quickLocal,
  restoring,
  rollingOut,
  steering as steeringSteps,
  watching,
} from './activity-proxies';
import { type AnalysisTally, concludeBake, emptyTally } from '../domain/bake-analysis';
import { type DeployWindow, describeWindow, nextOpening } from '../domain/deploy-window';
import { formatDuration } from '../domain/duration';
import { judgeLoad } from '../domain/load-gates';
import type { LoadReport } from '../domain/load-report';
import { readOperatorRequest } from '../domain/operator-requests';
import { describeRef, type ObjectRef, type RegionInput, regionInputProblems } from '../domain/release-input';
import type { RegionPhase, RegionStatus } from '../domain/release-status';
import type { RegionTraffic } from '../domain/traffic-policy';
import {
  abortSignal,
  type OperatorRequest,
  pauseSignal,
  type RegionResult,
  regionStatusQuery,
  resumeSignal,
} from './definitions';
import { phaseKey } from './search-attributes';
import { describeAbort, describeFailure } from './failures';
import { type BakeOutcome, releaseMetrics } from './release-metrics';
import { checksInputPatch, refuseInput } from './input-checks';
import { regionDetails, regionStep } from './timeline';

/** A share of users in words: 10%, 0.5%. */
function percentOf(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** Rollouts longer than this fail the region (the Deployment's own progress deadline usually fires first). */
export const rolloutTimeoutMs = 15 * 60_000;

/** Rendering runs as a local activity, inside the region's workflow task (patched in). */
const renderLocallyPatch = 'render-as-local-activity';

/** An inconclusive bake keeps the region's ramp share instead of giving it all its users (patched in). */
const inconclusiveHoldsSharePatch = 'inconclusive-bake-holds-traffic-share';

/**
 * The stretch of a bake one analysis activity watches: 5 minutes, longer for long bakes so that a
 * 72-hour soak takes 144 activities, not 864. A failure still ends the stretch at
 * once; only the passing counts in the status are up to a stretch old.
 */
export function analysisWindowMs(bakeMs: number): number {
  return Math.min(30 * 60_000, Math.max(5 * 60_000, Math.round(bakeMs / 100)));
}

/**
 * One region of a release: render, deploy, wait for the rollout, check, bake. A failure rolls the
 * region back (unless onFailure is halt) and is reported to the release, which decides what follows.
 */
export async function regionWorkflow(input: RegionInput): Promise<RegionResult> {
  // Started by hand (the temporal CLI) or by a release that did not check: a bake must be a number.
  if (patched(checksInputPatch)) {
    const problems = regionInputProblems(input);
    if (problems.length > 0) throw refuseInput('region', problems);
  }
  const { release, region } = input;
  const step = { release, region };
  let paused = false;
  let abort: OperatorRequest | undefined;
  let deployed = false;
  let deployments: ObjectRef[] = [];
  const status: RegionStatus = { name: region.name, wave: input.wave, phase: 'Pending', attempts: input.attempt };
  const metrics = releaseMetrics();
  /** Options of a step this region starts: its line in the Web UI timeline, e.g. `eu-west: wait for rollout`. */
  const named = (step: string) => ({ summary: regionStep(region.name, step) });
  /** The region's current details in the Web UI follow its status. */
  const showDetails = () => setCurrentDetails(regionDetails(status, release));

  const report = (phase: RegionPhase, extra: Partial<Pick<RegionStatus, 'waitingFor' | 'until' | 'error'>> = {}) => {
    Object.assign(status, { phase, waitingFor: undefined, until: undefined }, extra);
    upsertSearchAttributes([{ key: phaseKey, value: phase }]);
    showDetails();
  };

  const steps = new CancellationScope();
  setHandler(regionStatusQuery, () => status);
  /** Signals come from the release, or from an operator with the temporal CLI: a payload that is refused changes nothing (patched). */
  const accepted = (message: 'pause' | 'resume' | 'abort', payload: unknown): OperatorRequest | undefined => {
    if (!patched(checksInputPatch)) return (payload ?? {}) as OperatorRequest;
    const read = readOperatorRequest(message, payload, true);
    if (read.ok) return read.request as OperatorRequest;
    log.warn('operator signal refused', {
      release: release.releaseId,
      region: region.name,
      signal: message,
      reason: read.refused,
    });
    return undefined;
  };
  setHandler(pauseSignal, (payload) => {
    if (accepted('pause', payload)) paused = true;
  });
  setHandler(resumeSignal, (payload) => {
    if (accepted('resume', payload)) paused = false;
  });
  setHandler(abortSignal, (payload) => {
    const request = accepted('abort', payload);
    if (!request) return;
    abort = request;
    steps.cancel();
  });

  const whenRunning = async () => {
    if (paused) {
      const before = { ...status };
      report(status.phase, { waitingFor: 'an operator to resume the release (paused)' });
      await condition(() => !paused);
      report(before.phase, { waitingFor: before.waitingFor, until: before.until });
    }
  };

  let result: Omit<RegionResult, 'phase' | 'name' | 'attempt'> = {};
  let inconclusive: string | undefined;

  /** Replays the recorded traffic against the staging endpoint and judges it against thresholds and the last good release. */
  async function loadTest(load: NonNullable<RegionInput['load']>): Promise<LoadReport> {
    report('LoadTesting', {
      waitingFor: `a load test: ${load.spec.rate} requests/s for ${formatDuration(load.durationMs)} against ${region.endpoint}`,
    });
    const baseline = await quick.findLoadBaseline.executeWithOptions(named('find the last good load test'), [
      { app: release.app, environment: region.name, rate: load.spec.rate, excludeReleaseId: release.releaseId },
    ]);
    const measured = await loadTesting(load.durationMs).runLoadTest.executeWithOptions(
      named(`load test ${load.spec.rate}/s for ${formatDuration(load.durationMs)}`),
      [{ ...step, load, prometheusUrl: input.prometheusUrl }],
    );
    const verdict = judgeLoad(measured.figures, load.spec.thresholds, baseline);
    return {
      environment: region.name,
      endpoint: region.endpoint,
      figures: measured.figures,
      resources: measured.resources,
      baseline,
      ...verdict,
    };
  }

  /** Waits durably for the region's deploy window to open; none in the next two weeks fails the region. */
  async function waitForDeployWindow(window: DeployWindow): Promise<void> {
    const opening = nextOpening(Date.now(), window);
    if (opening === undefined) {
      throw ApplicationFailure.nonRetryable(
        `no deploy window (${describeWindow(window)}) opens in the next 14 days`,
        'NoDeployWindow',
      );
    }
    if (opening <= Date.now()) return;
    report('Pending', {
      waitingFor: `its deploy window (${describeWindow(window)})`,
      until: new Date(opening).toISOString(),
    });
    await sleep(opening - Date.now(), named(`wait for deploy window (${describeWindow(window)})`));
  }

  /**
   * Measures health on an interval until `stopAt` (the bake's end, or the end of a ramp step) or until
   * the analysis decides; the tally is all that is kept, and carries over from one ramp step to the next.
   */
  async function watchBake(
    stopAt: number,
    deadline: number,
    startedAt: number,
    from: AnalysisTally,
  ): Promise<AnalysisTally> {
    const analysis = input.analysis!;
    let tally = from;
    while (tally.verdict === 'running' && Date.now() < stopAt) {
      await whenRunning();
      const windowEnd = Math.min(stopAt, Date.now() + analysisWindowMs(input.bakeMs));
      const final = windowEnd >= deadline;
      const windowMs = windowEnd - Date.now();
      const watched = await watching(windowMs).watchBake.executeWithOptions(
        named(`watch bake health for ${formatDuration(windowMs)}`),
        [{ ...step, analysis, prometheusUrl: input.prometheusUrl, startedAt, until: windowEnd, final, tally }],
      );
      tally = watched.tally;
      // The activity watches until the window ends; should it return early, the rest is waited here.
      if (tally.verdict === 'running' && Date.now() < windowEnd)
        await sleep(windowEnd - Date.now(), named('bake, rest of the stretch'));
      if (final && tally.verdict === 'running') tally = concludeBake(tally, analysis, watched.requests);
      status.analysis = tally;
      showDetails();
    }
    return tally;
  }

  const steering = input.steering;
  /** Whether this release changed the region's share of its hostname's answers. */
  let steered = false;
  /** The region's state before this release first set it: what an undeployed region goes back to. */
  let before: RegionTraffic | undefined;

  /**
   * Sets the region's share of its hostname's answers (0 drains it, 1 restores it), recorded with why:
   * by this release now, or with the note of a state it puts back (`recorded`).
   */
  async function steer(share: number, reason: string, recorded?: Omit<RegionTraffic, 'mode' | 'share'>): Promise<void> {
    const traffic = steering!;
    const mode = share >= 1 ? 'in' : share <= 0 ? 'drained' : 'ramp';
    const what =
      mode === 'in'
        ? `restore to ${traffic.hostname}`
        : mode === 'drained'
          ? `drain from ${traffic.hostname}`
          : `ramp to ${percentOf(share)} of its users`;
    const set = await steeringSteps.steerRegion.executeWithOptions(named(what), [
      {
        steering: traffic,
        region: region.name,
        share,
        release: release.releaseId,
        note: recorded ?? {
          by: `release ${release.releaseId}`,
          reason,
          at: new Date(Date.now()).toISOString(),
          release: release.releaseId,
        },
      },
    ]);
    // The state before this release first touched it. Absent: never written (in service). A state this
    // very step wrote (its activity retried after writing) says nothing of before, so it counts as absent.
    const previous = set?.previous;
    if (!steered && previous && !(previous.release === release.releaseId && previous.reason === reason))
      before = previous;
    steered = true;
    status.traffic = { hostname: traffic.hostname, mode, share, reason };
    showDetails();
  }

  /**
   * Before the cluster is touched: drain the region and wait one TTL (duringDeploy: drain), or check
   * that the DNS server can steer the hostname (keep), so that a DNS fault fails the region here.
   */
  async function leaveAnswers(traffic: NonNullable<RegionInput['steering']>): Promise<void> {
    await whenRunning();
    if (traffic.duringDeploy === 'keep') {
      await steeringSteps.prepareSteering.executeWithOptions(named(`check DNS steering of ${traffic.hostname}`), [
        { steering: traffic, region: region.name, release: release.releaseId },
      ]);
      return;
    }
    report('Draining', { waitingFor: `${region.name} to leave the answers of ${traffic.hostname}` });
    await steer(0, 'drained to deploy');
    const ttl = formatDuration(traffic.ttl);
    report('Draining', {
      waitingFor: `resolvers to let go of ${region.name}: one TTL (${ttl}) after its drain`,
      until: new Date(Date.now() + traffic.ttl).toISOString(),
    });
    await sleep(traffic.ttl, named(`wait one TTL (${ttl})`));
  }

  /** The region's share of the answers as this workflow leaves it, for the release's status. */
  const trafficResult = () => (status.traffic ? { traffic: { ...status.traffic } } : {});

  /** After a failure: the region's users as the spec says (onRollback), before its rollback runs. */
  async function steerAfterFailure(error: string): Promise<string | undefined> {
    if (!steering || (!steered && !deployed)) return undefined;
    // Not deployed: the region's state goes back to what it was, as recorded (one an earlier release kept
    // out stays out, with that release's reason); a region never written goes back in service.
    const share = deployed ? (steering.onRollback === 'drain' ? 0 : 1) : (before?.share ?? 1);
    const reason = deployed
      ? `${steering.onRollback === 'drain' ? 'drained' : 'kept'} after failing: ${error}`.slice(0, 900)
      : 'not deployed: back in service';
    try {
      const restored =
        !deployed && before
          ? { by: before.by, reason: before.reason, at: before.at, release: before.release }
          : undefined;
      await steer(share, restored?.reason ?? reason, restored);
      return undefined;
    } catch (err) {
      return `traffic not ${share === 0 ? 'drained' : 'restored'}: ${describeFailure(err)}`;
    }
  }

  /** When the bake began, until its duration is recorded (once, however it ends). */
  let bakeStartedAt: number | undefined;
  const bakeEnded = (outcome: BakeOutcome) => {
    if (bakeStartedAt === undefined) return;
    metrics.bakeEnded(Date.now() - bakeStartedAt, region.name, outcome);
    bakeStartedAt = undefined;
  };

  try {
    await steps.run(async () => {
      await whenRunning();
      if (region.deployWindow) await waitForDeployWindow(region.deployWindow);
      if (steering) await leaveAnswers(steering);
      report('Rendering');
      const render = { ...step, template: input.template, values: input.values };
      const rendered = patched(renderLocallyPatch)
        ? await quickLocal.renderRegion.executeWithOptions(named(`render ${release.version}`), [render])
        : await quick.renderRegion.executeWithOptions(named(`render ${release.version}`), [render]);
      result = { digest: rendered.digest, image: rendered.image };
      deployments = rendered.deployments;

      await whenRunning();
      report('Deploying');
      deployed = true;
      await deploying.deployRegion.executeWithOptions(named(`apply ${release.version}`), [
        { ...step, template: input.template, values: input.values, digest: rendered.digest },
      ]);

      report('RollingOut', { waitingFor: `${rendered.deployments.map((d) => d.name).join(', ')} to roll out` });
      await rollingOut.waitForRollout.executeWithOptions(named('wait for rollout'), [
        { ...step, deployments: rendered.deployments, timeoutMs: rolloutTimeoutMs },
      ]);

      if (input.checks) {
        await whenRunning();
        report('Checking', {
          waitingFor: `${input.checks.checks.length} integration checks against ${region.endpoint}`,
        });
        const checks = await checking(input.checks).runIntegrationChecks.executeWithOptions(
          named(`${input.checks.checks.length} integration checks`),
          [{ ...step, checks: input.checks, attempt: input.attempt }],
        );
        result = { ...result, checks };
        if (!checks.passed) {
          const failed = checks.results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.failure}`);
          throw ApplicationFailure.nonRetryable(`integration checks failed: ${failed.join('; ')}`, 'ChecksFailed');
        }
      }

      if (input.load) {
        await whenRunning();
        const load = await loadTest(input.load);
        result = { ...result, load };
        status.load = load;
        showDetails();
        if (!load.passed) {
          const failed = load.gates.filter((g) => !g.passed).map((g) => g.detail);
          throw ApplicationFailure.nonRetryable(`load test failed: ${failed.join('; ')}`, 'LoadTestFailed');
        }
      }

      // A region drained to deploy comes back step by step while it bakes (spec.traffic.ramp).
      const ramp = steering?.duringDeploy === 'drain' ? steering.ramp : [];
      if (input.bakeMs > 0) {
        const startedAt = Date.now();
        const until = startedAt + input.bakeMs;
        const measuring = input.analysis ? `, measuring health every ${formatDuration(input.analysis.interval)}` : '';
        bakeStartedAt = startedAt;
        const segments = Math.max(1, ramp.length);
        let tally = emptyTally;
        for (let i = 0; i < segments && tally.verdict === 'running'; i++) {
          if (ramp.length > 0)
            await steer(
              ramp[i],
              `ramping while it bakes: ${percentOf(ramp[i])} of its users (step ${i + 1} of ${segments})`,
            );
          const answering = ramp.length > 0 ? `, answering ${percentOf(ramp[i])} of its users` : '';
          report('Baking', {
            waitingFor: `the bake before the next wave${measuring}${answering}`,
            until: new Date(until).toISOString(),
          });
          const stopAt = i === segments - 1 ? until : startedAt + Math.round((input.bakeMs * (i + 1)) / segments);
          if (input.analysis) {
            tally = await watchBake(stopAt, until, startedAt, tally);
          } else {
            const ms = stopAt - Date.now();
            await sleep(
              ms,
              named(
                ramp.length > 0
                  ? `bake ${formatDuration(Math.round(input.bakeMs / segments))} at ${percentOf(ramp[i])} of its users`
                  : `bake ${formatDuration(input.bakeMs)}`,
              ),
            );
          }
        }
        if (input.analysis) {
          result = { ...result, analysis: tally };
          if (tally.verdict === 'failed')
            throw ApplicationFailure.nonRetryable(`bake analysis failed: ${tally.reason}`, 'AnalysisFailed');
          if (tally.verdict === 'inconclusive') {
            bakeEnded('inconclusive');
            inconclusive = tally.reason;
            return;
          }
        }
        bakeEnded('passed');
      }
      await whenRunning();
    });
    // Inconclusive: nothing proven either way, so the region keeps the share its ramp reached until an
    // operator accepts it (the release then gives it all its users) or aborts (drained, rolled back).
    const holdsShare =
      inconclusive !== undefined && status.traffic !== undefined && patched(inconclusiveHoldsSharePatch);
    if (steering && status.traffic?.mode !== 'in' && !holdsShare) {
      // Proven: the region answers for all its users again, however it was before, so a region an
      // earlier release drained comes back with the first that succeeds.
      await steer(
        1,
        inconclusive === undefined ? 'released: in service' : 'bake inconclusive: in service while an operator decides',
      );
    }
    if (holdsShare) {
      status.traffic = {
        ...status.traffic!,
        reason: `bake inconclusive: held at ${percentOf(status.traffic!.share)} of its users while an operator decides`,
      };
      showDetails();
    }
    if (inconclusive !== undefined) {
      // Nothing is proven bad: the region stays as deployed, and an operator decides.
      report('Inconclusive', { error: `bake analysis inconclusive: ${inconclusive}` });
      return {
        ...result,
        ...trafficResult(),
        name: region.name,
        phase: 'Inconclusive',
        attempt: input.attempt,
        error: status.error,
      };
    }
    report('Succeeded');
    return { ...result, ...trafficResult(), name: region.name, phase: 'Succeeded', attempt: input.attempt };
  } catch (err) {
    // For the time-to-halt metric, which the release records once it has halted or rolled back.
    const failedAt = Date.now();
    const aborted = abort !== undefined && isCancellation(err);
    bakeEnded(aborted ? 'aborted' : 'failed');
    const error = aborted ? describeAbort(abort!) : describeFailure(err);
    const rollBack = deployed && (aborted || input.onFailure !== 'halt');
    // Its users leave a failed version before it is rolled back (or left as it is: halt).
    const trafficProblem = steering
      ? await CancellationScope.nonCancellable(() => steerAfterFailure(error))
      : undefined;
    if (rollBack) {
      report('RollingBack', { error, waitingFor: 'the region to run what it ran before' });
      // Finish the rollback even if the release is aborted meanwhile.
      await CancellationScope.nonCancellable(async () => {
        const undone = await restoring.rollbackRegion.executeWithOptions(named('roll back to what it ran before'), [
          step,
        ]);
        const restored = deployments.filter((d) => undone.restored.includes(describeRef(d)));
        if (restored.length > 0) {
          await rollingOut.waitForRollout.executeWithOptions(named('wait for the rollback to roll out'), [
            { ...step, deployments: restored, timeoutMs: rolloutTimeoutMs },
          ]);
        }
      });
    }
    const phase: RegionResult['phase'] = aborted ? 'Aborted' : rollBack ? 'RolledBack' : 'Failed';
    const told = trafficProblem ? `${error}; ${trafficProblem}` : error;
    report(phase, { error: told });
    return {
      ...result,
      ...trafficResult(),
      name: region.name,
      phase,
      attempt: input.attempt,
      error: told,
      ...(aborted ? {} : { failedAt }),
    };
  }
}
