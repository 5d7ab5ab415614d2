import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { deploying, quick, restoring, rollingOut } from './activity-proxies';
import { describeRef, type ObjectRef, type RegionInput } from '../domain/release-input';
import type { RegionPhase, RegionStatus } from '../domain/release-status';
import { abortSignal, type OperatorRequest, pauseSignal, type RegionResult, regionStatusQuery, resumeSignal } from './definitions';
import { phaseKey } from './search-attributes';
import { describeAbort, describeFailure } from './failures';

/** Rollouts longer than this fail the region (the Deployment's own progress deadline usually fires first). */
const rolloutTimeoutMs = 15 * 60_000;

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
  try {
    await steps.run(async () => {
      await whenRunning();
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
        const checks = await quick.runIntegrationChecks({ ...step, checks: input.checks });
        result = { ...result, checks };
        if (!checks.passed) {
          const failed = checks.results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.failure}`);
          throw ApplicationFailure.nonRetryable(`integration checks failed: ${failed.join('; ')}`, 'ChecksFailed');
        }
      }

      if (input.bakeMs > 0) {
        report('Baking', { waitingFor: 'the bake before the next wave', until: new Date(Date.now() + input.bakeMs).toISOString() });
        await sleep(input.bakeMs);
      }
      await whenRunning();
    });
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
