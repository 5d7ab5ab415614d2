import { deployWindowSchema } from '../../../src/domain/release-spec';
import { exampleInput, withoutGates } from '../../support/fake-activities';
import { hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/** A region's deploy window in the release workflow: a durable wait until it opens. Time-skipping test server, fake activities. */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen } = rig;

describe('releaseWorkflow: deploy windows', () => {
  it('waits durably for a region deploy window to open instead of deploying outside it', async () => {
    // A window opening two hours from the server's now, in UTC, for one hour.
    const now = new Date(await rig.env.currentTimeMs());
    const from = (now.getUTCHours() + 2) % 24;
    const hours = `${String(from).padStart(2, '0')}:00-${String((from + 1) % 24).padStart(2, '0')}:00`;
    const input = exampleInput(
      'wf-window',
      (spec) => {
        withoutGates(spec);
        spec.spec.regions[0].deployWindow = deployWindowSchema.parse({ timezone: 'UTC', hours });
      },
      { canarySoakMs: 0, bakeMs: 0 },
    );
    const handle = await start(input);
    const waiting = await statusWhen(
      input.releaseId,
      (s) => s.regions[0].waitingFor?.startsWith('its deploy window') ?? false,
      'the wait for the window',
    );
    expect(waiting.regions[0]).toMatchObject({
      phase: 'Pending',
      waitingFor: `its deploy window (${hours} UTC, every day)`,
    });
    const opening = Date.parse(waiting.regions[0].until!);
    expect(new Date(opening).getUTCHours()).toBe(from);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
    await rig.env.sleep(3 * hour);
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(fake.calls(input.releaseId, 'deployRegion')[0]).toBe('us-east-canary');
  });
});
