import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowCode } from '../support/workflow-bundles';

const dir = join(__dirname, 'histories');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('recorded release histories', () => {
  it('exist', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
  });

  it.each(fixtures)('%s replays on the current workflow code without nondeterminism', async (file) => {
    const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    // Throws DeterminismViolationError if the code would make different decisions than recorded. With the
    // sender-identity interceptor module, as `meridian worker` runs the workflows.
    await Worker.runReplayHistory({ ...workflowCode('meridian'), replayName: file }, history);
  });
});
