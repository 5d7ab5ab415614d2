import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { RegionSpec } from '../../../src/domain/release-spec';
import {
  addRegionUpdate,
  approveSignal,
  moveRegionUpdate,
  resumeUpdate,
  retryRegionUpdate,
  skipRegionUpdate,
} from '../../../src/workflows/definitions';
import { exampleInput, withoutGates } from '../../support/fake-activities';
import { hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * Amending a release in flight (src/workflows/release/amendments.ts): skip, retry, move and add a
 * region, what each refuses, and how they meet halts, rollbacks and resumes. Time-skipping test server,
 * fake activities.
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

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
    await rig.env.sleep(2 * hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');

    // Refused: no reason, the canary, a region that is not in the release. Nothing changes.
    expect(
      await refusal(handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'eu-west', by: 'alice' }] })),
    ).toContain('give a reason');
    expect(
      await refusal(
        handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-east-canary', by: 'alice', reason: 'x' }] }),
      ),
    ).toContain('us-east-canary is the canary');
    expect(
      await refusal(handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'mars-1', by: 'alice', reason: 'x' }] })),
    ).toContain('mars-1 is not in this release');
    expect(
      await refusal(
        handle.executeUpdate(skipRegionUpdate, { args: [{ region: 'us-west', by: 'alice', reason: 'x' }] }),
      ),
    ).toContain('us-west already runs the release');

    const after = await handle.executeUpdate(skipRegionUpdate, {
      args: [{ region: 'eu-west', by: 'alice', reason: 'EU payments outage, not ours' }],
    });
    expect(after.regions.find((r) => r.name === 'eu-west')).toMatchObject({
      phase: 'Skipped',
      note: 'skip eu-west by alice: EU payments outage, not ours',
    });
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
    const input = exampleInput(
      'wf-amend-skip-halt',
      (spec) => {
        withoutGates(spec);
        spec.spec.rollout.onFailure = 'halt';
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failRollout: ['us-east'] });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual([]);
    await handle.executeUpdate(skipRegionUpdate, {
      args: [{ region: 'us-east', by: 'bob', reason: 'capacity work in us-east' }],
    });
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
    expect(
      await refusal(
        handle.executeUpdate(retryRegionUpdate, { args: [{ region: 'ap-south', by: 'carol', reason: 'x' }] }),
      ),
    ).toContain('ap-south has not run yet');
    await handle.executeUpdate(retryRegionUpdate, {
      args: [{ region: 'us-west', by: 'carol', reason: 'flaky check fixed' }],
    });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.results.find((r) => r.name === 'us-west')).toMatchObject({ phase: 'Succeeded', attempt: 2 });
    expect(result.actions).toContainEqual(
      expect.objectContaining({ action: 'retry us-west', by: 'carol', reason: 'flaky check fixed' }),
    );
  });

  it('moves a region that has not started to a later wave, or to a new last wave; refuses earlier waves and the canary', async () => {
    const input = exampleInput('wf-amend-move', undefined, { canarySoakMs: hour, bakeMs: hour });
    const handle = await start(input);
    await rig.env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    const move = (region: string, toWave: number) =>
      handle.executeUpdate(moveRegionUpdate, { args: [{ region, toWave, by: 'dan', reason: 'local holiday' }] });
    expect(await refusal(move('us-east-canary', 3))).toContain('us-east-canary is the canary');
    expect(await refusal(move('sa-east', 2))).toContain('a region only moves to a later wave');
    expect(await refusal(move('sa-east', 9))).toContain('give a wave up to 5');

    const moved = await move('sa-east', 5);
    expect(moved.waves.map((w) => w.regions)).toEqual([
      ['us-east-canary'],
      ['us-west', 'us-east', 'eu-west'],
      ['ap-northeast-2', 'me-central'],
      ['ap-south'],
      ['sa-east'],
    ]);
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
    await rig.env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    const base = input.spec.spec.regions.find((r) => r.name === 'eu-west')!;
    const add = (region: RegionSpec, wave?: number) =>
      handle.executeUpdate(addRegionUpdate, { args: [{ region, wave, by: 'erin', reason: 'new region went live' }] });
    expect(await refusal(add({ ...base, name: 'eu-north', canary: true }))).toContain('eu-north is a canary');
    expect(await refusal(add({ ...base, cluster: { ...base.cluster, namespace: 'other' } }))).toContain(
      'eu-west is already in this release',
    );
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
    expect(result.actions.filter((a) => a.action.startsWith('add'))).toEqual([
      expect.objectContaining({ action: 'add eu-north to wave 3', by: 'erin' }),
    ]);
  });

  it('a wave added after the last one started waits the bake the last wave did not do', async () => {
    const input = exampleInput('wf-amend-add-late', withoutGates, { canarySoakMs: 0, bakeMs: hour });
    fake.behave(input.releaseId, { failChecks: { 'ap-south': Infinity } });
    const handle = await start(input);
    await rig.env.sleep(3 * hour);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted' && s.wave === 4, 'the halt in the last wave');
    const base = input.spec.spec.regions.find((r) => r.name === 'eu-west')!;
    await handle.executeUpdate(addRegionUpdate, {
      args: [{ region: { ...base, name: 'eu-north' }, by: 'gus', reason: 'new region' }],
    });
    await handle.executeUpdate(skipRegionUpdate, {
      args: [{ region: 'ap-south', by: 'gus', reason: 'ap-south goes next week' }],
    });
    const baking = await statusWhen(input.releaseId, (s) => s.wave === 5, 'the added wave');
    expect(baking.waitingFor).toBe('a bake of 1h before wave 5, which an operator added');
    expect(fake.calls(input.releaseId, 'deployRegion')).not.toContain('eu-north');
    const before = await rig.env.currentTimeMs();
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect((await rig.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(hour - 60_000);
    expect(fake.calls(input.releaseId, 'deployRegion').at(-1)).toBe('eu-north');
    await keepHistory(input.releaseId, 'v3-amended-skip-and-add');
  });

  it('does not start a region again while its skip rolls it back, even when an operator resumes meanwhile', async () => {
    const input = exampleInput(
      'wf-amend-skip-race',
      (spec) => {
        withoutGates(spec);
        spec.spec.rollout.onFailure = 'halt';
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failRollout: ['us-west'], rollbackMs: 2_000 });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const skipping = handle.executeUpdate(skipRegionUpdate, {
      args: [{ region: 'us-west', by: 'lee', reason: 'region decommissioned' }],
    });
    await statusWhen(
      input.releaseId,
      (s) => s.regions.find((r) => r.name === 'us-west')?.phase === 'RollingBack',
      'the skip to roll us-west back',
    );
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
    await rig.env.sleep(hour + 60_000);
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate');
    await handle.executeUpdate(skipRegionUpdate, {
      args: [{ region: 'ap-south', by: 'finn', reason: 'datacenter move' }],
    });
    await handle.executeUpdate(skipRegionUpdate, {
      args: [{ region: 'me-central', by: 'finn', reason: 'regulator review' }],
    });
    const back = await handle.executeUpdate(retryRegionUpdate, {
      args: [{ region: 'me-central', by: 'finn', reason: 'review passed' }],
    });
    expect(back.regions.find((r) => r.name === 'me-central')).toMatchObject({ phase: 'Pending', wave: 3 });
    await handle.signal(approveSignal, { by: 'finn' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')).not.toContain('ap-south');
    expect(fake.calls(input.releaseId, 'deployRegion')).toContain('me-central');
    expect(result.regions.find((r) => r.name === 'ap-south')).toMatchObject({
      phase: 'Skipped',
      note: 'skip ap-south by finn: datacenter move',
    });
  });
});
