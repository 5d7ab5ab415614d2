import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { checking, deploying, loadTesting, quick, restoring, rollingOut, watching } from './activity-proxies';
import { type AnalysisTally, concludeBake, emptyTally } from '../domain/bake-analysis';
import { type DeployWindow, describeWindow, nextOpening } from '../domain/deploy-window';
import { formatDuration } from '../domain/duration';
import { judgeLoad } from '../domain/load-gates';
import type { LoadReport } from '../domain/load-report';
import { describeRef, type ObjectRef, type RegionInput } from '../domain/release-input';
import type { RegionPhase, RegionStatus } from '../domain/release-status';
import { abortSignal, type OperatorRequest, pauseSignal, type RegionResult, regionStatusQuery, resumeSignal } from './definitions';
import { phaseKey } from './search-attributes';
import { describeAbort, describeFailure } from './failures';

/** Rollouts longer than this fail the region (the Deployment's own progress deadline usually fires first). */
export const rolloutTimeoutMs = 15 * 60_000;

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
  const { release, region } = input;
  const step = { release, region };
  let paused = false;
  let abort: OperatorRequest | undefined;
  let deployed = false;
  let deployments: ObjectRef[] = [];
  const status: RegionStatus = { name: region.name, wave: input.wave, phase: 'Pending', attempts: input.attempt };

  const report = (phase: RegionPhase, extra: Partial<Pick<RegionStatus, 'waitingFor' | 'until' | 'error'>> = {}) => {
    Object.assign(status, { phase, waitingFor: undefined, until: undefined }, extra);
    upsertSearchAttributes([{ key: phaseKey, value: phase }]);
  };

  const steps = new CancellationScope();
  setHandler(regionStatusQuery, () => status);
  setHandler(pauseSignal, () => {
    paused = true;
  });
  setHandler(resumeSignal, () => {
    paused = false;
  });
  setHandler(abortSignal, (request) => {
    abort = request ?? {};
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
    report('LoadTesting', { waitingFor: `a load test: ${load.spec.rate} requests/s for ${formatDuration(load.durationMs)} against ${region.endpoint}` });
    const baseline = await quick.findLoadBaseline({ app: release.app, environment: region.name, rate: load.spec.rate, excludeReleaseId: release.releaseId });
    const measured = await loadTesting(load.durationMs).runLoadTest({ ...step, load, prometheusUrl: input.prometheusUrl });
    const verdict = judgeLoad(measured.figures, load.spec.thresholds, baseline);
    return { environment: region.name, endpoint: region.endpoint, figures: measured.figures, resources: measured.resources, baseline, ...verdict };
  }

  /** Waits durably for the region's deploy window to open; none in the next two weeks fails the region. */
  async function waitForDeployWindow(window: DeployWindow): Promise<void> {
    const opening = nextOpening(Date.now(), window);
    if (opening === undefined) {
      throw ApplicationFailure.nonRetryable(`no deploy window (${describeWindow(window)}) opens in the next 14 days`, 'NoDeployWindow');
    }
    if (opening <= Date.now()) return;
    report('Pending', { waitingFor: `its deploy window (${describeWindow(window)})`, until: new Date(opening).toISOString() });
    await sleep(opening - Date.now());
  }

  /** Measures health on an interval until the bake ends or the analysis decides; the tally is all that is kept. */
  async function watchBake(deadline: number): Promise<AnalysisTally> {
    const analysis = input.analysis!;
    const startedAt = Date.now();
    let tally = emptyTally;
    while (tally.verdict === 'running') {
      await whenRunning();
      const windowEnd = Math.min(deadline, Date.now() + analysisWindowMs(input.bakeMs));
      const final = windowEnd >= deadline;
      const watched = await watching(windowEnd - Date.now()).watchBake({
        ...step,
        analysis,
        prometheusUrl: input.prometheusUrl,
        startedAt,
        until: windowEnd,
        final,
        tally,
      });
      tally = watched.tally;
      // The activity watches until the window ends; should it return early, the rest is waited here.
      if (tally.verdict === 'running' && Date.now() < windowEnd) await sleep(windowEnd - Date.now());
      if (final && tally.verdict === 'running') tally = concludeBake(tally, analysis, watched.requests);
      status.analysis = tally;
    }
    return tally;
  }
  try {
    await steps.run(async () => {
      await whenRunning();
      if (region.deployWindow) await waitForDeployWindow(region.deployWindow);
      report('Rendering');
      const rendered = await quick.renderRegion({ ...step, template: input.template, values: input.values });
      result = { digest: rendered.digest, image: rendered.image };
      deployments = rendered.deployments;

      await whenRunning();
      report('Deploying');
      deployed = true;
      await deploying.deployRegion({ ...step, template: input.template, values: input.values, digest: rendered.digest });

      report('RollingOut', { waitingFor: `${rendered.deployments.map((d) => d.name).join(', ')} to roll out` });
      await rollingOut.waitForRollout({ ...step, deployments: rendered.deployments, timeoutMs: rolloutTimeoutMs });

      if (input.checks) {
        await whenRunning();
        report('Checking', { waitingFor: `${input.checks.checks.length} integration checks against ${region.endpoint}` });
        const checks = await checking(input.checks).runIntegrationChecks({ ...step, checks: input.checks, attempt: input.attempt });
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
        if (!load.passed) {
          const failed = load.gates.filter((g) => !g.passed).map((g) => g.detail);
          throw ApplicationFailure.nonRetryable(`load test failed: ${failed.join('; ')}`, 'LoadTestFailed');
        }
      }

      if (input.bakeMs > 0) {
        const until = Date.now() + input.bakeMs;
        const measuring = input.analysis ? `, measuring health every ${formatDuration(input.analysis.interval)}` : '';
        report('Baking', { waitingFor: `the bake before the next wave${measuring}`, until: new Date(until).toISOString() });
        if (input.analysis) {
          const analysis = await watchBake(until);
          result = { ...result, analysis };
          if (analysis.verdict === 'failed') throw ApplicationFailure.nonRetryable(`bake analysis failed: ${analysis.reason}`, 'AnalysisFailed');
          if (analysis.verdict === 'inconclusive') {
            inconclusive = analysis.reason;
            return;
          }
        } else {
          await sleep(input.bakeMs);
        }
      }
      await whenRunning();
    });
    if (inconclusive !== undefined) {
      // Nothing is proven bad: the region stays as deployed, and an operator decides.
      report('Inconclusive', { error: `bake analysis inconclusive: ${inconclusive}` });
      return { ...result, name: region.name, phase: 'Inconclusive', attempt: input.attempt, error: status.error };
    }
    report('Succeeded');
    return { ...result, name: region.name, phase: 'Succeeded', attempt: input.attempt };
  } catch (err) {
    const aborted = abort !== undefined && isCancellation(err);
    const error = aborted ? describeAbort(abort!) : describeFailure(err);
    const rollBack = deployed && (aborted || input.onFailure !== 'halt');
    if (rollBack) {
      report('RollingBack', { error, waitingFor: 'the region to run what it ran before' });
      // Finish the rollback even if the release is aborted meanwhile.
      await CancellationScope.nonCancellable(async () => {
        const undone = await restoring.rollbackRegion(step);
        const restored = deployments.filter((d) => undone.restored.includes(describeRef(d)));
        if (restored.length > 0) await rollingOut.waitForRollout({ ...step, deployments: restored, timeoutMs: rolloutTimeoutMs });
      });
    }
    const phase: RegionResult['phase'] = aborted ? 'Aborted' : rollBack ? 'RolledBack' : 'Failed';
    report(phase, { error });
    return { ...result, name: region.name, phase, attempt: input.attempt, error };
  }
}
