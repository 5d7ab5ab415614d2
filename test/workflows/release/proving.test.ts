import type { ReleaseSpec } from '../../../src/domain/release-spec';
import type { ReleaseStatus } from '../../../src/domain/release-status';
import { abortSignal, approveSignal, resumeSignal, taskQueue } from '../../../src/workflows/definitions';
import { releaseWorkflow } from '../../../src/workflows/release-workflow';
import { exampleInput, goodLoad, withAnalysis, withStaging, withoutGates } from '../../support/fake-activities';
import { failureOf, hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * Proving a release before and during its rollout: the staging region's load test against the baseline,
 * bake analysis that fails a region at the first failing measurement, and an inconclusive bake that
 * halts for an operator (accept, abort, or bake again). Time-skipping test server, fake activities.
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

describe('releaseWorkflow: proving a release before and during rollout', () => {
  it('takes the staging region first and load-tests it there only; with no baseline the report says so', async () => {
    const input = exampleInput('wf-staging', (s) => (withoutGates(s), withStaging(s)), { bakeMs: 0, canarySoakMs: 0 });
    const result = await rig.env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });

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
    const input = exampleInput('wf-bake-fail', (s) => (withoutGates(s), withAnalysis(s)), {
      bakeMs: hour,
      canarySoakMs: hour,
    });
    fake.behave(input.releaseId, { bake: { 'us-west': 'failed' } });
    const handle = await start(input);
    await rig.env.sleep(hour + 60_000); // the canary soak
    // The failing region is rolled back at once; the release halts once its wave's other regions end their bakes.
    const rolledBack = await statusWhen(
      input.releaseId,
      (s) => s.regions.find((r) => r.name === 'us-west')?.phase === 'RolledBack',
      'us-west to roll back',
    );
    expect(rolledBack.regions.find((r) => r.name === 'us-east')?.phase).toBe('Baking');
    await rig.env.sleep(hour + 60_000);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const usWest = halted.regions.find((r) => r.name === 'us-west')!;
    expect(usWest.phase).toBe('RolledBack');
    expect(usWest.error).toMatch(
      /bake analysis failed: 1 failed measurement \(limit 0\): health: GET \/healthz answered 500/,
    );
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
    const input = exampleInput('wf-inconclusive', (s) => (withoutGates(s), withAnalysis(s)), {
      bakeMs: hour,
      canarySoakMs: hour,
    });
    fake.behave(input.releaseId, { bakeRequests: { 'us-east-canary': 3 } });
    const handle = await start(input);
    await rig.env.sleep(hour + 60_000);
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
      spec.spec.rollout.waves = [
        ['us-east-canary'],
        ['us-west', 'us-east'],
        ['eu-west', 'ap-northeast-2', 'me-central', 'sa-east', 'ap-south'],
      ];
    };
    const input = exampleInput('wf-accept-rest', waves, { bakeMs: hour, canarySoakMs: hour });
    fake.behave(input.releaseId, { bake: { 'us-west': 'inconclusive' } });
    const handle = await start(input);
    await rig.env.sleep(2 * hour);
    await statusWhen(input.releaseId, (s) => s.gate === 'accept-wave-2', 'the inconclusive halt');
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary', 'us-west']);
    await handle.signal(approveSignal, { by: 'erin' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')).toContain('us-east');
    expect(result.regions.every((r) => r.phase === 'Succeeded')).toBe(true);
  });

  it('rolls an inconclusive region back when the release is aborted', async () => {
    const input = exampleInput('wf-abort-inconclusive', (s) => (withoutGates(s), withAnalysis(s)), {
      bakeMs: hour,
      canarySoakMs: hour,
    });
    fake.behave(input.releaseId, { bakeRequests: { 'us-east-canary': 0 } });
    const handle = await start(input);
    await rig.env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.gate === 'accept-wave-1', 'the inconclusive halt');
    await handle.signal(abortSignal, { by: 'frank', reason: 'no traffic tonight' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseAborted');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east-canary']);
    // Rolled back means running the old version again: the release waited for that rollout too.
    expect(fake.calls(input.releaseId, 'waitForRollout')).toEqual(['us-east-canary', 'us-east-canary']);
    const details = failure.details?.[0] as ReleaseStatus;
    expect(details.regions[0]).toMatchObject({
      phase: 'RolledBack',
      error: 'rolled back: its bake was inconclusive and the release was aborted',
    });
  });

  it('bakes an inconclusive region again when an operator resumes', async () => {
    const input = exampleInput('wf-rebake', (s) => (withoutGates(s), withAnalysis(s)), {
      bakeMs: 0,
      canarySoakMs: hour,
    });
    fake.behave(input.releaseId, { bake: { 'us-east-canary': 'inconclusive' } });
    const handle = await start(input);
    await rig.env.sleep(10 * 60_000);
    const waiting = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the inconclusive halt');
    expect(waiting.regions[0].analysis).toMatchObject({ verdict: 'inconclusive', inconclusive: 3 });
    fake.behave(input.releaseId, {});
    await handle.signal(resumeSignal, { by: 'dave' });
    await rig.env.sleep(hour + 60_000);
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.regions[0]).toMatchObject({ phase: 'Succeeded', attempts: 2 });
  });
});
