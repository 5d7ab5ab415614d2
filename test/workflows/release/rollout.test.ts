import type { ReleaseStatus } from '../../../src/domain/release-status';
import { abortSignal, approveSignal, pauseSignal, resumeSignal, taskQueue } from '../../../src/workflows/definitions';
import { releaseWorkflow } from '../../../src/workflows/release-workflow';
import { exampleInput, withoutGates } from '../../support/fake-activities';
import { failureOf, hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * The release workflow's rollout: waves in order with at most maxParallel at once, the canary soak,
 * gates, pause and resume, a halt that waits for an operator, abort, and what onFailure does (including
 * a rollback-all whose rollback of one region does not finish). Time-skipping test server, fake activities.
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

describe('releaseWorkflow', () => {
  it('takes the canary first, soaks it for days in seconds, then the other waves with at most maxParallel at once', async () => {
    const input = exampleInput('wf-happy', withoutGates);
    fake.behave(input.releaseId, { deployMs: 150 });
    const before = await rig.env.currentTimeMs();
    const result = await rig.env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });

    expect(result.phase).toBe('Succeeded');
    const deployed = fake.calls(input.releaseId, 'deployRegion');
    expect(deployed[0]).toBe('us-east-canary');
    expect([...deployed].sort()).toEqual(input.spec.spec.regions.map((r) => r.name).sort());
    // Waves in order: wave 2 entirely before wave 3, wave 3 before wave 4.
    const position = (name: string) => deployed.indexOf(name);
    for (const [a, b] of [
      ['us-east', 'ap-northeast-2'],
      ['eu-west', 'sa-east'],
      ['sa-east', 'ap-south'],
    ])
      expect(position(a)).toBeLessThan(position(b));
    expect(fake.maxInFlight(input.releaseId)).toBe(3);
    expect(result.results.every((r) => r.phase === 'Succeeded' && r.attempt === 1)).toBe(true);
    // 72h canary soak plus two 30m bakes passed on the server's clock.
    expect((await rig.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(72 * hour + 2 * 0.5 * hour);
    await keepHistory(input.releaseId, 'happy-path');

    // Rendering runs as a local activity inside the region's workflow task: a marker, not a scheduled activity.
    const canary = `${input.releaseId}.us-east-canary.1`;
    const events = (await rig.env.client.workflow.getHandle(canary).fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(expect.arrayContaining(['deployRegion', 'waitForRollout']));
    expect(scheduled).not.toContain('renderRegion');
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
    expect(fake.calls(input.releaseId, 'renderRegion')).toContain('us-east-canary');
    await keepHistory(canary, 'v11-region-rendered-locally');
  });

  it('waits at the after-canary gate until approved; approving twice is harmless', async () => {
    const input = exampleInput('wf-gate', undefined, { canarySoakMs: hour, bakeMs: 0 });
    const handle = await start(input);
    await rig.env.sleep(hour + 60_000); // the canary soak
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
    const input = exampleInput(
      'wf-pause',
      (spec) => {
        spec.spec.rollout.approvals = ['after-canary'];
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
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
    await rig.env.sleep(2 * hour + 60_000); // the canary soak, then the bake of wave 2's other regions
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.reason).toContain(
      'eu-west: integration checks failed: search in Korean: $.query is "??", expected "결제"',
    );
    expect(halted.regions.find((r) => r.name === 'eu-west')).toMatchObject({ phase: 'RolledBack', attempts: 1 });
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['eu-west']);
    // Waiting for an operator: let a day pass on the server and check nothing else was deployed.
    await rig.env.sleep(24 * hour);
    const wave3 = ['ap-northeast-2', 'me-central', 'sa-east', 'ap-south'];
    expect(fake.calls(input.releaseId, 'deployRegion').filter((r) => wave3.includes(r))).toEqual([]);

    // Paused on top of the halt: one resume lifts both.
    await handle.signal(pauseSignal, { by: 'bob' });
    await statusWhen(input.releaseId, (s) => s.paused, 'the pause');
    await handle.signal(resumeSignal, { by: 'alice', reason: 'fixed the encoder config' });
    const result = await handle.result();
    expect(result.paused).toBe(false);
    expect(result.actions).toContainEqual(
      expect.objectContaining({ action: 'resume', by: 'alice', reason: 'fixed the encoder config' }),
    );
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
    expect(failure.message).toContain(
      'us-east-canary: Deployment shop-api failed to roll out: ProgressDeadlineExceeded',
    );
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
    expect(final.actions).toContainEqual(
      expect.objectContaining({ action: 'abort', by: 'alice', reason: 'customer escalation' }),
    );
  });

  it('with onFailure halt leaves the failed region as it is', async () => {
    const input = exampleInput(
      'wf-onfailure-halt',
      (spec) => {
        withoutGates(spec);
        spec.spec.rollout.onFailure = 'halt';
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failChecks: { 'us-east-canary': Infinity } });
    const handle = await start(input);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.regions[0].phase).toBe('Failed');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual([]);
    await handle.signal(abortSignal, { by: 'alice' });
    expect((await failureOf(handle.result())).type).toBe('ReleaseFailed');
  });

  it('with onFailure rollback-all rolls back every region it reached, newest first, and fails', async () => {
    const input = exampleInput(
      'wf-rollback-all',
      (spec) => {
        withoutGates(spec);
        spec.spec.rollout.onFailure = 'rollback-all';
        spec.spec.rollout.maxParallel = 1;
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failRollout: ['us-east'] });
    const failure = await failureOf(
      rig.env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }),
    );
    expect(failure.type).toBe('ReleaseFailed');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east', 'us-west', 'us-east-canary']);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary', 'us-west', 'us-east']);
  });
});

describe('releaseWorkflow: a rollback that does not finish', () => {
  it('rolls back every other region when one cannot be rolled back, and fails with the full status', async () => {
    const input = exampleInput(
      'wf-rollback-stuck',
      (spec) => {
        withoutGates(spec);
        spec.spec.rollout.onFailure = 'rollback-all';
        spec.spec.rollout.maxParallel = 1;
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failRollout: ['us-east'], failRestore: ['us-west'] });
    const failure = await failureOf(
      rig.env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }),
    );
    expect(failure.type).toBe('ReleaseFailed');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east', 'us-west', 'us-east-canary']);
    const final = failure.details?.[0] as ReleaseStatus;
    expect(final.regions.find((r) => r.name === 'us-west')).toMatchObject({
      phase: 'Failed',
      error: expect.stringContaining('could not roll back (rolled back with the release'),
    });
    expect(final.regions.find((r) => r.name === 'us-east-canary')?.phase).toBe('RolledBack');
  });
});
