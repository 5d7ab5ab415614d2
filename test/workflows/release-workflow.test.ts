import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseInput } from '../../src/domain/release-input';
import { deployWindowSchema, type RegionSpec, type ReleaseSpec } from '../../src/domain/release-spec';
import type { ReleaseStatus } from '../../src/domain/release-status';
import {
  abortSignal,
  addRegionUpdate,
  approveSignal,
  moveRegionUpdate,
  pauseSignal,
  resumeSignal,
  resumeUpdate,
  retryRegionUpdate,
  skipRegionUpdate,
  taskQueue,
} from '../../src/workflows/definitions';
import { queryStatus } from '../../src/client/release-handle';
import { freezeIdOf, freezeStatusQuery, freezeWorkflow, liftSignal } from '../../src/workflows/freeze-workflow';
import { releaseWorkflow } from '../../src/workflows/release-workflow';
import { exampleInput, fakeActivities, fakeDigest, goodLoad, withAnalysis, withStaging, withoutGates } from '../support/fake-activities';
import { workflowTestRig } from '../support/workflow-env';

const hour = 3_600_000;
const fake = fakeActivities();
let env: TestWorkflowEnvironment;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ env, stop } = await workflowTestRig(fake.activities));
});

afterAll(async () => {
  await stop?.();
});

/**
 * Starts a release. The test server skips time only while a client waits on a result or in env.sleep:
 * a test that waits for an operator step moves the clock itself, since an idle server with time
 * skipping on would jump straight to the workflow's timeout.
 */
const start = (input: ReleaseInput) => env.client.workflow.start(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] });

/** Polls the status query (real time) until `ready` holds. */
async function statusWhen(releaseId: string, ready: (s: ReleaseStatus) => boolean, what: string): Promise<ReleaseStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await queryStatus(env.client, releaseId);
    if (ready(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) return err.cause;
    throw err;
  }
  throw new Error('expected the release to fail');
}

/**
 * Records the history of a finished release as a replay fixture (test/workflows/histories), when
 * MERIDIAN_RECORD_HISTORIES=1. Fixtures are recorded once per shipped workflow version and then kept:
 * replay.test.ts proves later workflow code still replays them.
 */
async function keepHistory(releaseId: string, name: string): Promise<void> {
  if (process.env.MERIDIAN_RECORD_HISTORIES !== '1') return;
  const history = await env.client.workflow.getHandle(releaseId).fetchHistory();
  const dir = join(__dirname, 'histories');
  mkdirSync(dir, { recursive: true });
  // A fixture records the version that shipped it: never overwrite one with a later version's history.
  if (existsSync(join(dir, `${name}.json`))) return;
  writeFileSync(join(dir, `${name}.json`), `${historyToJSON(history)}\n`);
}

describe('releaseWorkflow', () => {
  it('takes the canary first, soaks it for days in seconds, then the other waves with at most maxParallel at once', async () => {
    const input = exampleInput('wf-happy', withoutGates);
    fake.behave(input.releaseId, { deployMs: 150 });
    const before = await env.currentTimeMs();
    const result = await env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] });

    expect(result.phase).toBe('Succeeded');
    const deployed = fake.calls(input.releaseId, 'deployRegion');
    expect(deployed[0]).toBe('us-east-canary');
    expect([...deployed].sort()).toEqual(input.spec.spec.regions.map((r) => r.name).sort());
    // Waves in order: wave 2 entirely before wave 3, wave 3 before wave 4.
    const position = (name: string) => deployed.indexOf(name);
    for (const [a, b] of [['us-east', 'ap-northeast-2'], ['eu-west', 'sa-east'], ['sa-east', 'ap-south']]) expect(position(a)).toBeLessThan(position(b));
    expect(fake.maxInFlight(input.releaseId)).toBe(3);
    expect(result.results.every((r) => r.phase === 'Succeeded' && r.attempt === 1)).toBe(true);
    // 72h canary soak plus two 30m bakes passed on the server's clock.
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(72 * hour + 2 * 0.5 * hour);
    await keepHistory(input.releaseId, 'happy-path');
  });

  it('waits at the after-canary gate until approved; approving twice is harmless', async () => {
    const input = exampleInput('wf-gate', undefined, { canarySoakMs: hour, bakeMs: 0 });
    const handle = await start(input);
    await env.sleep(hour + 60_000); // the canary soak
    const waiting = await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the gate');
    expect(waiting.gate).toBe('after-canary');
    expect(waiting.waitingFor).toContain('approval of gate after-canary');
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary']);

    await handle.signal(approveSignal, { by: 'alice', reason: 'canary looks good' });
    await handle.signal(approveSignal, { gate: 'after-canary', by: 'alice' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.actions.filter((a) => a.action.startsWith('approve'))).toEqual([
      expect.objectContaining({ action: 'approve after-canary', by: 'alice', reason: 'canary looks good' }),
    ]);
  });

  it('pauses before the next step and resumes where it stopped; both are idempotent', async () => {
    const input = exampleInput('wf-pause', (spec) => {
      spec.spec.rollout.approvals = ['after-canary'];
    }, { canarySoakMs: 0, bakeMs: 0 });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the gate');
    await handle.signal(pauseSignal, { by: 'alice', reason: 'lunch' });
    await handle.signal(pauseSignal, { by: 'alice' });
    const paused = await statusWhen(input.releaseId, (s) => s.paused, 'the pause');
    expect(paused.actions.filter((a) => a.action === 'pause')).toHaveLength(1);
    await handle.signal(approveSignal, { by: 'alice' });
    // Paused: the approval is recorded but no region of wave 2 starts.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary']);

    // resume works as a signal too, as `temporal workflow signal --name resume` sends it.
    await handle.signal(resumeSignal, { by: 'bob' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')).toHaveLength(8);
    expect(result.actions.map((a) => a.action)).toEqual(['pause', 'approve after-canary', 'resume']);
  });

  it('rolls a failing region back and halts: nothing else deploys until an operator resumes, which retries it', async () => {
    const input = exampleInput('wf-halt', withoutGates, { canarySoakMs: hour, bakeMs: hour });
    fake.behave(input.releaseId, { failChecks: { 'eu-west': 1 } });
    const handle = await start(input);
    await env.sleep(2 * hour + 60_000); // the canary soak, then the bake of wave 2's other regions
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.reason).toContain('eu-west: integration checks failed: search in Korean: $.query is "??", expected "결제"');
    expect(halted.regions.find((r) => r.name === 'eu-west')).toMatchObject({ phase: 'RolledBack', attempts: 1 });
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['eu-west']);
    // Waiting for an operator: let a day pass on the server and check nothing else was deployed.
    await env.sleep(24 * hour);
    const wave3 = ['ap-northeast-2', 'me-central', 'sa-east', 'ap-south'];
    expect(fake.calls(input.releaseId, 'deployRegion').filter((r) => wave3.includes(r))).toEqual([]);

    // Paused on top of the halt: one resume lifts both.
    await handle.signal(pauseSignal, { by: 'bob' });
    await statusWhen(input.releaseId, (s) => s.paused, 'the pause');
    await handle.signal(resumeSignal, { by: 'alice', reason: 'fixed the encoder config' });
    const result = await handle.result();
    expect(result.paused).toBe(false);
    expect(result.actions).toContainEqual(expect.objectContaining({ action: 'resume', by: 'alice', reason: 'fixed the encoder config' }));
    expect(result.phase).toBe('Succeeded');
    expect(result.results.find((r) => r.name === 'eu-west')).toMatchObject({ phase: 'Succeeded', attempt: 2 });
    expect(fake.calls(input.releaseId, 'deployRegion').filter((r) => r === 'eu-west')).toHaveLength(2);
    await keepHistory(input.releaseId, 'halt-and-retry');
  });

  it('ends Failed when an operator aborts a halted release', async () => {
    const input = exampleInput('wf-halt-abort', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failRollout: ['us-east-canary'] });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    await handle.signal(abortSignal, { by: 'alice', reason: 'bad build' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseFailed');
    expect(failure.message).toContain('us-east-canary: Deployment shop-api failed to roll out: ProgressDeadlineExceeded');
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary']);
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east-canary']);
  });

  it('aborts with a reason: regions baking are rolled back, nothing new starts, the release ends Aborted', async () => {
    const input = exampleInput('wf-abort', withoutGates, { canarySoakMs: 10 * hour, bakeMs: hour });
    // Nothing moves the clock here, so the canary is still baking when the abort arrives.
    const handle = await start(input);
    const baking = await statusWhen(input.releaseId, (s) => s.regions[0].phase === 'Baking', 'the canary to bake');
    expect(baking.regions[0].until).toBeDefined();
    await handle.signal(abortSignal, { by: 'alice', reason: 'customer escalation' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseAborted');
    expect(failure.message).toContain('aborted by alice: customer escalation');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east-canary']);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary']);
    const final = failure.details?.[0] as ReleaseStatus;
    expect(final.phase).toBe('Aborted');
    expect(final.regions[0].phase).toBe('Aborted');
    expect(final.actions).toContainEqual(expect.objectContaining({ action: 'abort', by: 'alice', reason: 'customer escalation' }));
  });

  it('with onFailure halt leaves the failed region as it is', async () => {
    const input = exampleInput('wf-onfailure-halt', (spec) => {
      withoutGates(spec);
      spec.spec.rollout.onFailure = 'halt';
    }, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failChecks: { 'us-east-canary': Infinity } });
    const handle = await start(input);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.regions[0].phase).toBe('Failed');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual([]);
    await handle.signal(abortSignal, { by: 'alice' });
    expect((await failureOf(handle.result())).type).toBe('ReleaseFailed');
  });

  it('with onFailure rollback-all rolls back every region it reached, newest first, and fails', async () => {
    const input = exampleInput('wf-rollback-all', (spec) => {
      withoutGates(spec);
      spec.spec.rollout.onFailure = 'rollback-all';
      spec.spec.rollout.maxParallel = 1;
    }, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failRollout: ['us-east'] });
    const failure = await failureOf(env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }));
    expect(failure.type).toBe('ReleaseFailed');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east', 'us-west', 'us-east-canary']);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary', 'us-west', 'us-east']);
  });
});

describe('releaseWorkflow: a rollback that does not finish', () => {
  it('rolls back every other region when one cannot be rolled back, and fails with the full status', async () => {
    const input = exampleInput('wf-rollback-stuck', (spec) => {
      withoutGates(spec);
      spec.spec.rollout.onFailure = 'rollback-all';
      spec.spec.rollout.maxParallel = 1;
    }, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failRollout: ['us-east'], failRestore: ['us-west'] });
    const failure = await failureOf(env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }));
    expect(failure.type).toBe('ReleaseFailed');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east', 'us-west', 'us-east-canary']);
    const final = failure.details?.[0] as ReleaseStatus;
    expect(final.regions.find((r) => r.name === 'us-west')).toMatchObject({ phase: 'Failed', error: expect.stringContaining('could not roll back (rolled back with the release') });
    expect(final.regions.find((r) => r.name === 'us-east-canary')?.phase).toBe('RolledBack');
  });
});

describe('releaseWorkflow: deploy windows', () => {
  it('waits durably for a region deploy window to open instead of deploying outside it', async () => {
    // A window opening two hours from the server's now, in UTC, for one hour.
    const now = new Date(await env.currentTimeMs());
    const from = (now.getUTCHours() + 2) % 24;
    const hours = `${String(from).padStart(2, '0')}:00-${String((from + 1) % 24).padStart(2, '0')}:00`;
    const input = exampleInput('wf-window', (spec) => {
      withoutGates(spec);
      spec.spec.regions[0].deployWindow = deployWindowSchema.parse({ timezone: 'UTC', hours });
    }, { canarySoakMs: 0, bakeMs: 0 });
    const handle = await start(input);
    const waiting = await statusWhen(input.releaseId, (s) => s.regions[0].waitingFor?.startsWith('its deploy window') ?? false, 'the wait for the window');
    expect(waiting.regions[0]).toMatchObject({ phase: 'Pending', waitingFor: `its deploy window (${hours} UTC, every day)` });
    const opening = Date.parse(waiting.regions[0].until!);
    expect(new Date(opening).getUTCHours()).toBe(from);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
    await env.sleep(3 * hour);
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')[0]).toBe('us-east-canary');
  });
});

describe('releaseWorkflow: proving a release before and during rollout', () => {
  it('takes the staging region first and load-tests it there only; with no baseline the report says so', async () => {
    const input = exampleInput('wf-staging', (s) => (withoutGates(s), withStaging(s)), { bakeMs: 0, canarySoakMs: 0 });
    const result = await env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] });

    expect(result.phase).toBe('Succeeded');
    expect(result.waves[0]).toEqual({ regions: ['staging'], bakeMs: 0 });
    expect(fake.calls(input.releaseId, 'deployRegion')[0]).toBe('staging');
    expect(fake.calls(input.releaseId, 'runLoadTest')).toEqual(['staging']);
    const load = result.results.find((r) => r.name === 'staging')?.load;
    expect(load).toMatchObject({ environment: 'staging', passed: true });
    expect(load?.baseline).toBeUndefined();
    expect(load?.notes.join(' ')).toMatch(/no baseline/i);
    expect(load?.gates.map((g) => g.gate)).toEqual(expect.arrayContaining(['errorRate', 'p99']));
    await keepHistory(input.releaseId, 'v2-staging-first');
    await keepHistory(`${input.releaseId}.staging.1`, 'v2-region-staging-load-test');
  });

  it('never reaches production when the staging load test regresses p99 beyond the threshold', async () => {
    const input = exampleInput('wf-regress', (s) => (withoutGates(s), withStaging(s)), { bakeMs: 0, canarySoakMs: 0 });
    fake.behave(input.releaseId, {
      baseline: { releaseId: 'release-shop-api-2.3.9', version: '2.3.9', figures: goodLoad },
      load: { staging: { latencyMs: { ...goodLoad.latencyMs, p90: 9, p99: 30 } } },
    });
    const handle = await start(input);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.regions.find((r) => r.name === 'staging')).toMatchObject({ phase: 'RolledBack' });
    expect(halted.reason).toMatch(/load test failed: .*p99 30ms vs 20ms in 2\.3\.9 \(\+50%\)/);
    const staging = halted.regions.find((r) => r.name === 'staging')!;
    expect(staging.load?.gates.find((g) => g.gate === 'regression p99')).toMatchObject({ passed: false });
    expect(staging.load?.gates.find((g) => g.gate === 'regression p90')).toMatchObject({ passed: true });
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['staging']);

    await handle.signal(abortSignal, { by: 'bob', reason: 'p99 regression' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseFailed');
  });

  it('fails a bake at the first failing measurement and rolls the region back; the status shows the measurement', async () => {
    const input = exampleInput('wf-bake-fail', (s) => (withoutGates(s), withAnalysis(s)), { bakeMs: hour, canarySoakMs: hour });
    fake.behave(input.releaseId, { bake: { 'us-west': 'failed' } });
    const handle = await start(input);
    await env.sleep(hour + 60_000); // the canary soak
    // The failing region is rolled back at once; the release halts once its wave's other regions end their bakes.
    const rolledBack = await statusWhen(input.releaseId, (s) => s.regions.find((r) => r.name === 'us-west')?.phase === 'RolledBack', 'us-west to roll back');
    expect(rolledBack.regions.find((r) => r.name === 'us-east')?.phase).toBe('Baking');
    await env.sleep(hour + 60_000);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const usWest = halted.regions.find((r) => r.name === 'us-west')!;
    expect(usWest.phase).toBe('RolledBack');
    expect(usWest.error).toMatch(/bake analysis failed: 1 failed measurement \(limit 0\): health: GET \/healthz answered 500/);
    expect(usWest.analysis).toMatchObject({ verdict: 'failed', failed: 1, deciding: { outcome: 'failed' } });
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toContain('us-west');
    // The canary's soak was watched too, and passed with every measurement counted, not listed.
    const canary = halted.regions.find((r) => r.name === 'us-east-canary')!;
    expect(canary.analysis).toMatchObject({ verdict: 'passed', failed: 0, passed: 120, requests: 1000 });
    await handle.signal(abortSignal, { by: 'bob' });
    await failureOf(handle.result());
    await keepHistory(`${input.releaseId}.us-west.1`, 'v2-region-bake-analysis-failed');
    await keepHistory(`${input.releaseId}.us-east-canary.1`, 'v2-region-bake-analysis-passed');
  });

  it('pauses as inconclusive when a bake sees too little traffic; approve accepts the region and the release goes on', async () => {
    const input = exampleInput('wf-inconclusive', (s) => (withoutGates(s), withAnalysis(s)), { bakeMs: hour, canarySoakMs: hour });
    fake.behave(input.releaseId, { bakeRequests: { 'us-east-canary': 3 } });
    const handle = await start(input);
    await env.sleep(hour + 60_000);
    const waiting = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the inconclusive halt');
    expect(waiting.gate).toBe('accept-wave-1');
    expect(waiting.waitingFor).toMatch(/approve accepts us-east-canary/);
    expect(waiting.regions[0]).toMatchObject({ name: 'us-east-canary', phase: 'Inconclusive' });
    expect(waiting.regions[0].error).toMatch(/too little traffic: 3 requests during the bake, 20 needed/);
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual([]);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary']);

    await handle.signal(approveSignal, { by: 'carol', reason: 'quiet night, checked dashboards' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.regions[0]).toMatchObject({ phase: 'Succeeded', error: 'inconclusive bake accepted by carol' });
    await keepHistory(input.releaseId, 'v2-inconclusive-accepted');
  });

  it('after an accepted inconclusive bake still deploys the regions of the wave that had not started', async () => {
    const waves = (spec: ReleaseSpec) => {
      withoutGates(spec);
      withAnalysis(spec);
      spec.spec.rollout.maxParallel = 1;
      spec.spec.rollout.waves = [['us-east-canary'], ['us-west', 'us-east'], ['eu-west', 'ap-northeast-2', 'me-central', 'sa-east', 'ap-south']];
    };
    const input = exampleInput('wf-accept-rest', waves, { bakeMs: hour, canarySoakMs: hour });
    fake.behave(input.releaseId, { bake: { 'us-west': 'inconclusive' } });
    const handle = await start(input);
    await env.sleep(2 * hour);
    await statusWhen(input.releaseId, (s) => s.gate === 'accept-wave-2', 'the inconclusive halt');
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary', 'us-west']);
    await handle.signal(approveSignal, { by: 'erin' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')).toContain('us-east');
    expect(result.regions.every((r) => r.phase === 'Succeeded')).toBe(true);
  });

  it('rolls an inconclusive region back when the release is aborted', async () => {
    const input = exampleInput('wf-abort-inconclusive', (s) => (withoutGates(s), withAnalysis(s)), { bakeMs: hour, canarySoakMs: hour });
    fake.behave(input.releaseId, { bakeRequests: { 'us-east-canary': 0 } });
    const handle = await start(input);
    await env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.gate === 'accept-wave-1', 'the inconclusive halt');
    await handle.signal(abortSignal, { by: 'frank', reason: 'no traffic tonight' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseAborted');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east-canary']);
    // Rolled back means running the old version again: the release waited for that rollout too.
    expect(fake.calls(input.releaseId, 'waitForRollout')).toEqual(['us-east-canary', 'us-east-canary']);
    const details = failure.details?.[0] as ReleaseStatus;
    expect(details.regions[0]).toMatchObject({ phase: 'RolledBack', error: 'rolled back: its bake was inconclusive and the release was aborted' });
  });

  it('bakes an inconclusive region again when an operator resumes', async () => {
    const input = exampleInput('wf-rebake', (s) => (withoutGates(s), withAnalysis(s)), { bakeMs: 0, canarySoakMs: hour });
    fake.behave(input.releaseId, { bake: { 'us-east-canary': 'inconclusive' } });
    const handle = await start(input);
    await env.sleep(10 * 60_000);
    const waiting = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the inconclusive halt');
    expect(waiting.regions[0].analysis).toMatchObject({ verdict: 'inconclusive', inconclusive: 3 });
    fake.behave(input.releaseId, {});
    await handle.signal(resumeSignal, { by: 'dave' });
    await env.sleep(hour + 60_000);
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.regions[0]).toMatchObject({ phase: 'Succeeded', attempts: 2 });
  });
});

describe('releaseWorkflow: amending a release in flight', () => {
  const refusal = async (promise: Promise<unknown>): Promise<string> => {
    try {
      await promise;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
      throw err;
    }
    throw new Error('expected the amendment to be refused');
  };
  const wave3 = ['ap-northeast-2', 'me-central', 'sa-east'];

  it('skips a failed region the release is halted on: the release goes on without it, and says who and why', async () => {
    const input = exampleInput('wf-amend-skip', withoutGates, { canarySoakMs: hour, bakeMs: hour });
    fake.behave(input.releaseId, { failChecks: { 'eu-west': Infinity } });
    const handle = await start(input);
    await env.sleep(2 * hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');

    // Refused: no reason, the canary, a region that is not in the release. Nothing changes.
    expect(await refusal(handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'eu-west', by: 'alice' }] }))).toContain('give a reason');
    expect(await refusal(handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-east-canary', by: 'alice', reason: 'x' }] }))).toContain(
      'us-east-canary is the canary',
    );
    expect(await refusal(handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'mars-1', by: 'alice', reason: 'x' }] }))).toContain(
      'mars-1 is not in this release',
    );
    expect(await refusal(handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-west', by: 'alice', reason: 'x' }] }))).toContain(
      'us-west already runs the release',
    );

    const after = await handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'eu-west', by: 'alice', reason: 'EU payments outage, not ours' }] });
    expect(after.regions.find((r) => r.name === 'eu-west')).toMatchObject({ phase: 'Skipped', note: 'skip eu-west by alice: EU payments outage, not ours' });
    // Asked twice: harmless, recorded once.
    await handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'eu-west', by: 'alice', reason: 'again' }] });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.actions.filter((a) => a.action.startsWith('skip'))).toEqual([
      expect.objectContaining({ action: 'skip eu-west', by: 'alice', reason: 'EU payments outage, not ours' }),
    ]);
    expect(fake.calls(input.releaseId, 'deployRegion').filter((r) => r === 'eu-west')).toHaveLength(1);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(expect.arrayContaining([...wave3, 'ap-south']));
    // It failed under rollback-region, so it was already rolled back: skipping does not roll it back again.
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['eu-west']);
  });

  it('rolls back a region left failed (onFailure halt) when it is skipped', async () => {
    const input = exampleInput('wf-amend-skip-halt', (spec) => {
      withoutGates(spec);
      spec.spec.rollout.onFailure = 'halt';
    }, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failRollout: ['us-east'] });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual([]);
    await handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-east', by: 'bob', reason: 'capacity work in us-east' }] });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east']);
    expect(result.regions.find((r) => r.name === 'us-east')?.phase).toBe('Skipped');
  });

  it('retries one failed region: it runs again, alone, and the release goes on when it passes', async () => {
    const input = exampleInput('wf-amend-retry', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failChecks: { 'us-west': 1 } });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(await refusal(handle.executeUpdate(retryRegionUpdate, { args: [{ region: 'ap-south', by: 'carol', reason: 'x' }] }))).toContain(
      'ap-south has not run yet',
    );
    await handle.executeUpdate(retryRegionUpdate, { args: [{ region: 'us-west', by: 'carol', reason: 'flaky check fixed' }] });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.results.find((r) => r.name === 'us-west')).toMatchObject({ phase: 'Succeeded', attempt: 2 });
    expect(result.actions).toContainEqual(expect.objectContaining({ action: 'retry us-west', by: 'carol', reason: 'flaky check fixed' }));
  });

  it('moves a region that has not started to a later wave, or to a new last wave; refuses earlier waves and the canary', async () => {
    const input = exampleInput('wf-amend-move', undefined, { canarySoakMs: hour, bakeMs: hour });
    const handle = await start(input);
    await env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    const move = (region: string, toWave: number) => handle.executeUpdate(moveRegionUpdate, { args: [{ region, toWave, by: 'dan', reason: 'local holiday' }] });
    expect(await refusal(move('us-east-canary', 3))).toContain('us-east-canary is the canary');
    expect(await refusal(move('sa-east', 2))).toContain('a region only moves to a later wave');
    expect(await refusal(move('sa-east', 9))).toContain('give a wave up to 5');

    const moved = await move('sa-east', 5);
    expect(moved.waves.map((w) => w.regions)).toEqual([['us-east-canary'], ['us-west', 'us-east', 'eu-west'], ['ap-northeast-2', 'me-central'], ['ap-south'], ['sa-east']]);
    expect(moved.regions.find((r) => r.name === 'sa-east')).toMatchObject({ wave: 5, phase: 'Pending' });
    // The wave that was last now bakes before the new one, as any production wave does.
    expect(moved.waves.map((w) => w.bakeMs)).toEqual([hour, hour, hour, hour, 0]);
    await handle.signal(approveSignal, { by: 'dan' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion').at(-1)).toBe('sa-east');
    expect(result.actions).toContainEqual(expect.objectContaining({ action: 'move sa-east to wave 5', by: 'dan' }));
  });

  it('adds a region to a running release; refuses a canary and a name already there', async () => {
    const input = exampleInput('wf-amend-add', undefined, { canarySoakMs: hour, bakeMs: 0 });
    const handle = await start(input);
    await env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    const base = input.spec.spec.regions.find((r) => r.name === 'eu-west')!;
    const add = (region: RegionSpec, wave?: number) => handle.executeUpdate(addRegionUpdate, { args: [{ region, wave, by: 'erin', reason: 'new region went live' }] });
    expect(await refusal(add({ ...base, name: 'eu-north', canary: true }))).toContain('eu-north is a canary');
    expect(await refusal(add({ ...base, cluster: { ...base.cluster, namespace: 'other' } }))).toContain('eu-west is already in this release');
    expect(await refusal(add({ ...base, name: 'eu-north' }, 1))).toContain('wave 1 has already started');

    const added = await add({ ...base, name: 'eu-north' }, 3);
    expect(added.waves[2].regions).toEqual(['ap-northeast-2', 'me-central', 'sa-east', 'eu-north']);
    // The same region again: harmless.
    await add({ ...base, name: 'eu-north' }, 3);
    await handle.signal(approveSignal, { by: 'erin' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.results.find((r) => r.name === 'eu-north')).toMatchObject({ phase: 'Succeeded', attempt: 1 });
    expect(fake.calls(input.releaseId, 'deployRegion').filter((r) => r === 'eu-north')).toHaveLength(1);
    expect(result.actions.filter((a) => a.action.startsWith('add'))).toEqual([expect.objectContaining({ action: 'add eu-north to wave 3', by: 'erin' })]);
  });

  it('a wave added after the last one started waits the bake the last wave did not do', async () => {
    const input = exampleInput('wf-amend-add-late', withoutGates, { canarySoakMs: 0, bakeMs: hour });
    fake.behave(input.releaseId, { failChecks: { 'ap-south': Infinity } });
    const handle = await start(input);
    await env.sleep(3 * hour);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted' && s.wave === 4, 'the halt in the last wave');
    const base = input.spec.spec.regions.find((r) => r.name === 'eu-west')!;
    await handle.executeUpdate(addRegionUpdate, { args: [{ region: { ...base, name: 'eu-north' }, by: 'gus', reason: 'new region' }] });
    await handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'ap-south', by: 'gus', reason: 'ap-south goes next week' }] });
    const baking = await statusWhen(input.releaseId, (s) => s.wave === 5, 'the added wave');
    expect(baking.waitingFor).toBe('a bake of 1h before wave 5, which an operator added');
    expect(fake.calls(input.releaseId, 'deployRegion')).not.toContain('eu-north');
    const before = await env.currentTimeMs();
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(hour - 60_000);
    expect(fake.calls(input.releaseId, 'deployRegion').at(-1)).toBe('eu-north');
    await keepHistory(input.releaseId, 'v3-amended-skip-and-add');
  });

  it('does not start a region again while its skip rolls it back, even when an operator resumes meanwhile', async () => {
    const input = exampleInput('wf-amend-skip-race', (spec) => {
      withoutGates(spec);
      spec.spec.rollout.onFailure = 'halt';
    }, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failRollout: ['us-west'], rollbackMs: 2_000 });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const skipping = handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-west', by: 'lee', reason: 'region decommissioned' }] });
    await statusWhen(input.releaseId, (s) => s.regions.find((r) => r.name === 'us-west')?.phase === 'RollingBack', 'the skip to roll us-west back');
    await handle.executeUpdate(resumeUpdate, { args: [{ by: 'max', reason: 'retry the rest' }] });
    await skipping;
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion').filter((r) => r === 'us-west')).toHaveLength(1);
    expect(result.regions.find((r) => r.name === 'us-west')?.phase).toBe('Skipped');
  });

  it('skips a region that has not started, and brings it back with retry', async () => {
    const input = exampleInput('wf-amend-skip-pending', undefined, { canarySoakMs: hour, bakeMs: 0 });
    const handle = await start(input);
    await env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    await handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'ap-south', by: 'finn', reason: 'datacenter move' }] });
    await handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'me-central', by: 'finn', reason: 'regulator review' }] });
    const back = await handle.executeUpdate(retryRegionUpdate, { args: [{ region: 'me-central', by: 'finn', reason: 'review passed' }] });
    expect(back.regions.find((r) => r.name === 'me-central')).toMatchObject({ phase: 'Pending', wave: 3 });
    await handle.signal(approveSignal, { by: 'finn' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')).not.toContain('ap-south');
    expect(fake.calls(input.releaseId, 'deployRegion')).toContain('me-central');
    expect(result.regions.find((r) => r.name === 'ap-south')).toMatchObject({ phase: 'Skipped', note: 'skip ap-south by finn: datacenter move' });
  });
});

describe('releaseWorkflow: the image in every region\'s registry', () => {
  it('copies the image to every registry at the start, in parallel, and every region deploys it by digest', async () => {
    const input = exampleInput('wf-images', withoutGates, { canarySoakMs: hour, bakeMs: 0 });
    const result = await env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] });
    expect(result.phase).toBe('Succeeded');
    const registries = [...new Set(input.spec.spec.regions.map((r) => r.registry))];
    expect([...fake.calls(input.releaseId, 'replicateImage')].sort()).toEqual([...registries].sort());
    // Every copy was asked for before the first region deployed: no wave waits for its registry.
    const calls = fake.calls(input.releaseId);
    expect(calls.slice(0, registries.length).sort()).toEqual([...registries].sort());
    expect(result.results.map((r) => r.image)).toEqual(input.spec.spec.regions.map((r) => `${r.registry}/shop/api:2.4.0@${fakeDigest}`));
    expect(result.registries).toEqual(
      registries.map((registry) => ({ registry, phase: 'Ready', digest: fakeDigest, detail: 'copied 3 of 3 blobs (2.9 KiB), 0 already there, 2 platforms' })),
    );
    await keepHistory(input.releaseId, 'v4-images-by-digest');
  });

  it('fails a region whose registry cannot get the image before touching its cluster; resume copies again', async () => {
    const input = exampleInput('wf-image-missing', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    const canaryRegistry = input.spec.spec.regions[0].registry;
    // The copy at the start fails, and so does the one the canary tries again: the canary fails.
    fake.behave(input.releaseId, { failImage: { [canaryRegistry]: 2 } });
    const handle = await start(input);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.regions[0]).toMatchObject({ phase: 'Failed', error: expect.stringContaining(`the image is not in ${canaryRegistry}: no image shop/api:2.4.0 in`) });
    expect(halted.registries?.find((r) => r.registry === canaryRegistry)?.phase).toBe('Failed');
    expect(fake.calls(input.releaseId, 'renderRegion')).toEqual([]);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
    await handle.signal(resumeSignal, { by: 'hana', reason: 'pushed the image' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'replicateImage').filter((r) => r === canaryRegistry)).toHaveLength(3);
    expect(result.results[0]).toMatchObject({ phase: 'Succeeded', attempt: 2 });
  });

  it('fails the regions of a registry that holds another digest: the tag moved during the release', async () => {
    const input = exampleInput('wf-image-moved', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    const asia = input.spec.spec.regions.find((r) => r.name === 'ap-south')!.registry;
    fake.behave(input.releaseId, { movedTag: [asia] });
    const handle = await start(input);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const failed = halted.regions.filter((r) => r.phase === 'Failed');
    expect(failed.map((r) => r.error)).toEqual([expect.stringContaining(`${asia} holds sha256:cdcd`)]);
    expect(failed[0].error).toContain('the tag moved during the release');
    expect(fake.calls(input.releaseId, 'deployRegion')).not.toContain(failed[0].name);
    await handle.signal(abortSignal, { by: 'lee' });
    await failureOf(handle.result());
  });

  it('an abort while the image is on its way leaves every region untouched', async () => {
    const input = exampleInput('wf-image-abort', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { imageMs: 3_000 });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.regions[0].phase === 'Replicating', 'the canary to wait for its image');
    await handle.signal(abortSignal, { by: 'ivan', reason: 'wrong build' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseAborted');
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
    expect((failure.details?.[0] as ReleaseStatus).regions[0]).toMatchObject({ phase: 'Aborted', error: 'aborted by ivan: wrong build' });
  });

  it('retries a registry that does not answer, once more at its regions\' turn, then fails them with the reason and halts', async () => {
    const input = exampleInput('wf-image-down', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    const europe = input.spec.spec.regions.find((r) => r.name === 'eu-west')!.registry;
    fake.behave(input.releaseId, { downRegistries: [europe] });
    const handle = await start(input);
    // The retries back off on the server's clock, which only moves when told to: move it until the halt.
    let halted = await queryStatus(env.client, input.releaseId);
    for (let minutes = 0; halted.phase !== 'Halted' && minutes < 60; minutes++) {
      await env.sleep(60_000);
      halted = await queryStatus(env.client, input.releaseId);
    }
    // Five attempts at the start, five more when eu-west's turn came.
    expect(fake.calls(input.releaseId, 'replicateImage').filter((r) => r === europe)).toHaveLength(10);
    expect(halted.regions.find((r) => r.name === 'eu-west')).toMatchObject({
      phase: 'Failed',
      error: `the image is not in ${europe}: registry ${europe} did not answer (connect ECONNREFUSED ${europe}): is it running and reachable from the worker?`,
    });
    expect(fake.calls(input.releaseId, 'deployRegion')).not.toContain('eu-west');
    await handle.signal(abortSignal, { by: 'jo' });
    expect((await failureOf(handle.result())).type).toBe('ReleaseFailed');
  });
});

describe('releaseWorkflow: a freeze held while a release starts', () => {
  it('pauses a release started while its app is frozen before it touches anything; the freeze records it', async () => {
    const freeze = await env.client.workflow.start(freezeWorkflow, {
      workflowId: freezeIdOf('shop-api'),
      taskQueue,
      args: [{ app: 'shop-api', by: 'kim', reason: 'incident', at: new Date().toISOString(), paused: [] }],
    });
    try {
      const input = exampleInput('wf-started-frozen', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
      const handle = await start(input);
      const paused = await statusWhen(input.releaseId, (s) => s.paused, 'the release to pause itself');
      expect(paused.actions).toEqual([expect.objectContaining({ action: 'pause', by: 'freeze', reason: expect.stringContaining('freeze of shop-api: started while frozen') })]);
      expect((await freeze.query(freezeStatusQuery)).paused).toEqual([input.releaseId]);
      await env.sleep(hour);
      expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
      await handle.signal(resumeSignal, { by: 'kim', reason: 'freeze lifted' });
      expect((await handle.result()).phase).toBe('Succeeded');
      await keepHistory(input.releaseId, 'v5-started-while-frozen');
    } finally {
      await freeze.signal(liftSignal, { by: 'kim' });
      await freeze.result();
    }
  });
});

/** The summaries (user metadata) of a workflow's history events, in order: what the Web UI timeline shows. */
async function summariesOf(workflowId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const payload = event.userMetadata?.summary;
    return payload ? [defaultPayloadConverter.fromPayload<string>(payload as Payload)] : [];
  });
}

/** The workflow's current details, as the Web UI reads them (the SDK's built-in metadata query). */
async function currentDetailsOf(workflowId: string): Promise<string> {
  const metadata = await env.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

describe('releaseWorkflow: the Web UI timeline', () => {
  it('names every child workflow, activity and timer by region and step, and shows what the release does now in its details', async () => {
    const input = exampleInput('wf-summaries', withoutGates, { canarySoakMs: hour, bakeMs: 30 * 60_000 });
    fake.behave(input.releaseId, { failChecks: { 'eu-west': 1 } });
    const handle = await start(input);
    await env.sleep(hour + 30 * 60_000 + 60_000); // the canary soak, then the bake of wave 2's other regions
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const halted = await currentDetailsOf(input.releaseId);
    expect(halted).toContain('**Halted**: shop-api 2.4.0, wave 2 of 4');
    expect(halted).toContain('Waiting for an operator: resume retries eu-west');
    expect(halted).toContain('- eu-west (wave 2): RolledBack: integration checks failed');
    expect(await currentDetailsOf(`${input.releaseId}.eu-west.1`)).toContain('**RolledBack**: shop-api 2.4.0 in eu-west, wave 2, attempt 1');

    await handle.signal(resumeSignal, { by: 'alice', reason: 'fixed the encoder config' });
    expect((await handle.result()).phase).toBe('Succeeded');
    expect(await currentDetailsOf(input.releaseId)).toContain('**Succeeded**: shop-api 2.4.0, wave 4 of 4, 8 of 8 regions done');

    const release = await summariesOf(input.releaseId);
    const registries = [...new Set(input.spec.spec.regions.map((r) => r.registry))];
    expect(release).toEqual(expect.arrayContaining(registries.map((registry) => `copy shop/api:2.4.0 to registry ${registry}`)));
    // A child's summary and details are on its own start (the time-skipping server keeps them there only).
    expect(await summariesOf(`${input.releaseId}.eu-west.1`)).toEqual([
      'eu-west: deploy 2.4.0 (wave 2)',
      'eu-west: render 2.4.0',
      'eu-west: apply 2.4.0',
      'eu-west: wait for rollout',
      `eu-west: ${input.checks!.checks.length} integration checks`,
      'eu-west: roll back to what it ran before',
      'eu-west: wait for the rollback to roll out',
    ]);
    expect(await summariesOf(`${input.releaseId}.us-east-canary.1`)).toEqual(expect.arrayContaining(['us-east-canary: deploy 2.4.0 (wave 1)', 'us-east-canary: bake 1h']));
    expect(await summariesOf(`${input.releaseId}.eu-west.2`)).toEqual(expect.arrayContaining(['eu-west: deploy 2.4.0 (wave 2, attempt 2)', 'eu-west: bake 30m']));
    const started = await env.client.workflow.getHandle(`${input.releaseId}.eu-west.2`).describe();
    const details = defaultPayloadConverter.fromPayload<string>(started.raw.executionConfig!.userMetadata!.details as Payload);
    expect(details).toContain('**shop-api 2.4.0** in **eu-west**');
    expect(details).toContain('- bake: 30m');
    await keepHistory(input.releaseId, 'v6-summaries');
    await keepHistory(`${input.releaseId}.eu-west.1`, 'v6-region-summaries-rolled-back');
  });
});
