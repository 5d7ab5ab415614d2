import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { resumeSignal } from '../../../src/workflows/definitions';
import { exampleInput, withoutGates } from '../../support/fake-activities';
import { hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * The release as the Web UI shows it: summaries of every child workflow, activity and timer, and the
 * workflow's current details (src/workflows/timeline.ts renders them; test/workflows/timeline.test.ts
 * tests that rendering alone). Time-skipping test server, fake activities.
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

/** The summaries (user metadata) of a workflow's history events, in order: what the Web UI timeline shows. */
async function summariesOf(workflowId: string): Promise<string[]> {
  const history = await rig.env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const payload = event.userMetadata?.summary;
    return payload ? [defaultPayloadConverter.fromPayload<string>(payload as Payload)] : [];
  });
}

/** The workflow's current details, as the Web UI reads them (the SDK's built-in metadata query). */
async function currentDetailsOf(workflowId: string): Promise<string> {
  const metadata = await rig.env.client.workflow
    .getHandle(workflowId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

describe('releaseWorkflow: the Web UI timeline', () => {
  it('names every child workflow, activity and timer by region and step, and shows what the release does now in its details', async () => {
    const input = exampleInput('wf-summaries', withoutGates, { canarySoakMs: hour, bakeMs: 30 * 60_000 });
    fake.behave(input.releaseId, { failChecks: { 'eu-west': 1 } });
    const handle = await start(input);
    await rig.env.sleep(hour + 30 * 60_000 + 60_000); // the canary soak, then the bake of wave 2's other regions
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt');
    const halted = await currentDetailsOf(input.releaseId);
    expect(halted).toContain('**Halted**: shop-api 2.4.0, wave 2 of 4');
    expect(halted).toContain('Waiting for an operator: resume retries eu-west');
    expect(halted).toContain('- eu-west (wave 2): RolledBack: integration checks failed');
    expect(await currentDetailsOf(`${input.releaseId}.eu-west.1`)).toContain(
      '**RolledBack**: shop-api 2.4.0 in eu-west, wave 2, attempt 1',
    );

    await handle.signal(resumeSignal, { by: 'alice', reason: 'fixed the encoder config' });
    expect((await handle.result()).phase).toBe('Succeeded');
    expect(await currentDetailsOf(input.releaseId)).toContain(
      '**Succeeded**: shop-api 2.4.0, wave 4 of 4, 8 of 8 regions done',
    );

    const release = await summariesOf(input.releaseId);
    const registries = [...new Set(input.spec.spec.regions.map((r) => r.registry))];
    expect(release).toEqual(
      expect.arrayContaining(registries.map((registry) => `copy shop/api:2.4.0 to registry ${registry}`)),
    );
    // A child's summary and details are on its own start (the time-skipping server keeps them there only).
    expect(await summariesOf(`${input.releaseId}.eu-west.1`)).toEqual([
      'eu-west: deploy 2.4.0 (wave 2)',
      // spec.traffic: duringDeploy drain, so the region leaves the DNS answers before its cluster is touched.
      'eu-west: drain from shop.example.test',
      'eu-west: wait one TTL (5s)',
      'eu-west: render 2.4.0',
      'eu-west: apply 2.4.0',
      'eu-west: wait for rollout',
      `eu-west: ${input.checks!.checks.length} integration checks`,
      'eu-west: drain from shop.example.test',
      'eu-west: roll back to what it ran before',
      'eu-west: wait for the rollback to roll out',
    ]);
    expect(await summariesOf(`${input.releaseId}.us-east-canary.1`)).toEqual(
      expect.arrayContaining(['us-east-canary: deploy 2.4.0 (wave 1)', 'us-east-canary: bake 20m at 10% of its users']),
    );
    expect(await summariesOf(`${input.releaseId}.eu-west.2`)).toEqual(
      expect.arrayContaining([
        'eu-west: deploy 2.4.0 (wave 2, attempt 2)',
        'eu-west: ramp to 10% of its users',
        'eu-west: bake 10m at 10% of its users',
        'eu-west: ramp to 50% of its users',
        'eu-west: bake 10m at 50% of its users',
        'eu-west: restore to shop.example.test',
        'eu-west: bake 10m at 100% of its users',
      ]),
    );
    const started = await rig.env.client.workflow.getHandle(`${input.releaseId}.eu-west.2`).describe();
    const details = defaultPayloadConverter.fromPayload<string>(
      started.raw.executionConfig!.userMetadata!.details as Payload,
    );
    expect(details).toContain('**shop-api 2.4.0** in **eu-west**');
    expect(details).toContain('- bake: 30m');
    await keepHistory(input.releaseId, 'v6-summaries');
    await keepHistory(`${input.releaseId}.eu-west.1`, 'v6-region-summaries-rolled-back');
  });
});
