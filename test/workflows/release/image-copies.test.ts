import { queryStatus } from '../../../src/client/release-handle';
import type { ReleaseStatus } from '../../../src/domain/release-status';
import { abortSignal, resumeSignal, taskQueue } from '../../../src/workflows/definitions';
import { releaseWorkflow } from '../../../src/workflows/release-workflow';
import { exampleInput, fakeDigest, withoutGates } from '../../support/fake-activities';
import { failureOf, hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * The release's image in every region's registry (src/workflows/release/image-copies.ts): copied at the
 * start, deployed by digest, and what a missing image, a moved tag, an abort mid-copy and a registry
 * that does not answer do to the regions. Time-skipping test server, fake activities.
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

describe("releaseWorkflow: the image in every region's registry", () => {
  it('copies the image to every registry at the start, in parallel, and every region deploys it by digest', async () => {
    const input = exampleInput('wf-images', withoutGates, { canarySoakMs: hour, bakeMs: 0 });
    const result = await rig.env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    expect(result.phase).toBe('Succeeded');
    const registries = [...new Set(input.spec.spec.regions.map((r) => r.registry))];
    expect([...fake.calls(input.releaseId, 'replicateImage')].sort()).toEqual([...registries].sort());
    // Every copy was asked for before the first region deployed: no wave waits for its registry.
    const calls = fake.calls(input.releaseId);
    expect(calls.slice(0, registries.length).sort()).toEqual([...registries].sort());
    expect(result.results.map((r) => r.image)).toEqual(
      input.spec.spec.regions.map((r) => `${r.registry}/shop/api:2.4.0@${fakeDigest}`),
    );
    expect(result.registries).toEqual(
      registries.map((registry) => ({
        registry,
        phase: 'Ready',
        digest: fakeDigest,
        detail: 'copied 3 of 3 blobs (2.9 KiB), 0 already there, 2 platforms',
      })),
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
    expect(halted.regions[0]).toMatchObject({
      phase: 'Failed',
      error: expect.stringContaining(`the image is not in ${canaryRegistry}: no image shop/api:2.4.0 in`),
    });
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
    expect((failure.details?.[0] as ReleaseStatus).regions[0]).toMatchObject({
      phase: 'Aborted',
      error: 'aborted by ivan: wrong build',
    });
  });

  it("retries a registry that does not answer, once more at its regions' turn, then fails them with the reason and halts", async () => {
    const input = exampleInput('wf-image-down', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
    const europe = input.spec.spec.regions.find((r) => r.name === 'eu-west')!.registry;
    fake.behave(input.releaseId, { downRegistries: [europe] });
    const handle = await start(input);
    // The retries back off on the server's clock, which only moves when told to: move it until the halt.
    let halted = await queryStatus(rig.env.client, input.releaseId);
    for (let minutes = 0; halted.phase !== 'Halted' && minutes < 60; minutes++) {
      await rig.env.sleep(60_000);
      halted = await queryStatus(rig.env.client, input.releaseId);
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
