import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ReleaseStatus } from '../../../src/domain/release-status';
import {
  abortSignal,
  approveUpdate,
  pauseUpdate,
  resumeUpdate,
  skipRegionUpdate,
} from '../../../src/workflows/definitions';
import { exampleInput, withoutGates } from '../../support/fake-activities';
import { releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * Operator updates (src/workflows/release/operator-handlers.ts): Paused as a real phase, answers that
 * show the action's effect, amendments one at a time. Time-skipping test server, fake activities.
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

/** The phase search attribute as the server holds it (what `meridian list --phase` filters on). */
async function phaseAttribute(releaseId: string): Promise<unknown> {
  const described = await rig.env.client.workflow.getHandle(releaseId).describe();
  return described.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'MeridianPhase')?.value;
}

describe('releaseWorkflow: operator updates', () => {
  it('shows Paused as the phase while paused, in the status and the search attribute; an approval answers once the gate opened', async () => {
    const input = exampleInput('wf-op-paused', undefined, { canarySoakMs: 0, bakeMs: 0 });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');

    const paused = await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'dashboards' }] });
    expect(paused).toMatchObject({ phase: 'Paused', paused: true, gate: 'after-canary' });
    expect(await phaseAttribute(input.releaseId)).toBe('Paused');

    // Resuming shows where the rollout stands again: the gate still waits.
    const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] });
    expect(resumed).toMatchObject({ phase: 'WaitingForApproval', paused: false });
    expect(await phaseAttribute(input.releaseId)).toBe('WaitingForApproval');

    // The approval's answer is the status after the gate opened, not the one that still waited.
    const approved = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', reason: 'canary healthy' }] });
    expect(approved.gate).toBeUndefined();
    expect(approved.phase).not.toBe('WaitingForApproval');
    expect(approved.actions.map((a) => a.action)).toEqual(['pause', 'resume', 'approve after-canary']);
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(await phaseAttribute(input.releaseId)).toBe('Succeeded');
    await keepHistory(input.releaseId, 'v8-paused-phase-and-answers');
  });

  it('a paused release that is aborted ends Aborted, not Paused', async () => {
    const input = exampleInput('wf-op-paused-abort', undefined, { canarySoakMs: 0, bakeMs: 0 });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] });
    await handle.signal(abortSignal, { by: 'alice', reason: 'wrong build' });
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) =>
        err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure ? err.cause : undefined,
    );
    expect(failure?.type).toBe('ReleaseAborted');
    const ended = failure?.details?.[0] as ReleaseStatus;
    expect(ended).toMatchObject({ phase: 'Aborted', paused: true });
    expect(await phaseAttribute(input.releaseId)).toBe('Aborted');
  });

  it('a resume of a halted release answers once the halt lifted', async () => {
    const input = exampleInput('wf-op-resume-halt', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    fake.behave(input.releaseId, { failChecks: { 'eu-west': 1 } });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ by: 'bob', reason: 'fixed' }] });
    expect(resumed.phase).toBe('Running');
    expect(resumed.reason).toBeUndefined();
    expect((await handle.result()).phase).toBe('Succeeded');
  });

  it('runs amendments one at a time: two skips sent together roll their regions back one after the other', async () => {
    const input = exampleInput(
      'wf-op-amend-lock',
      (spec) => {
        withoutGates(spec);
        spec.spec.rollout.onFailure = 'halt';
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failRollout: ['us-east', 'eu-west'], rollbackMs: 500 });
    const handle = await start(input);
    const halted = await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(halted.reason).toMatch(/us-east.*eu-west|eu-west.*us-east/);

    const [first, second] = await Promise.all([
      handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-east', by: 'carol', reason: 'capacity work' }] }),
      handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'eu-west', by: 'carol', reason: 'payments outage' }] }),
    ]);
    expect(fake.maxRollbacksInFlight(input.releaseId)).toBe(1);
    expect(fake.calls(input.releaseId, 'rollbackRegion').sort()).toEqual(['eu-west', 'us-east']);
    // The skip that left no failed region standing answers once the halt lifted; the other answered before.
    const answers = [first, second].sort((a, b) => a.actions.length - b.actions.length);
    expect(answers[0].phase).toBe('Halted');
    expect(answers[1].phase).toBe('Running');
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(
      result.regions
        .filter((r) => r.phase === 'Skipped')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['eu-west', 'us-east']);
    await keepHistory(input.releaseId, 'v8-amendments-one-at-a-time');
  });
});
