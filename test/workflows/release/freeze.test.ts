import { resumeSignal, taskQueue } from '../../../src/workflows/definitions';
import { freezeIdOf, freezeStatusQuery, freezeWorkflow, liftSignal } from '../../../src/workflows/freeze-workflow';
import { exampleInput, withoutGates } from '../../support/fake-activities';
import { hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/** A release started while its app is frozen (src/workflows/freeze-workflow.ts): it pauses itself first. Time-skipping test server, fake activities. */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

describe('releaseWorkflow: a freeze held while a release starts', () => {
  it('pauses a release started while its app is frozen before it touches anything; the freeze records it', async () => {
    const freeze = await rig.env.client.workflow.start(freezeWorkflow, {
      workflowId: freezeIdOf('shop-api'),
      taskQueue,
      args: [{ app: 'shop-api', by: 'kim', reason: 'incident', at: new Date().toISOString(), paused: [] }],
    });
    try {
      const input = exampleInput('wf-started-frozen', withoutGates, { canarySoakMs: 0, bakeMs: 0 });
      const handle = await start(input);
      const paused = await statusWhen(input.releaseId, (s) => s.paused, 'the release to pause itself');
      expect(paused.actions).toEqual([
        expect.objectContaining({
          action: 'pause',
          by: 'freeze',
          reason: expect.stringContaining('freeze of shop-api: started while frozen'),
        }),
      ]);
      expect((await freeze.query(freezeStatusQuery)).paused).toEqual([input.releaseId]);
      await rig.env.sleep(hour);
      expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
      await handle.signal(resumeSignal, { by: 'kim', reason: 'freeze lifted' });
      expect((await handle.result()).phase).toBe('Succeeded');
      await keepHistory(input.releaseId, 'v5-started-while-frozen');
    } finally {
      // Once the release is done the freeze is all this file's server runs, and while handle.result()
      // waits the server skips to its next deadline: the freeze's ten-year execution timeout. Lift it
      // only if it still runs.
      if ((await freeze.describe()).status.name === 'RUNNING') {
        await freeze.signal(liftSignal, { by: 'kim' });
        await freeze.result();
      }
    }
  });
});
