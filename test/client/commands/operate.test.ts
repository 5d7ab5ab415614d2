import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import type { ReleaseStatus } from '../../../src/domain/release-status';
import { meridian } from '../../support/cli';
import { rigEnv, specFor, spawnWorker, statusWhen, stopWorker, temporalClient } from '../../support/e2e';

/**
 * The operator commands print the status the release answers its update with: the status once the
 * action took effect (a resume after the pause lifted, an approval after the gate opened), never the
 * status as it was before. On the rig, with a worker.
 */
const version = `2.5.9-operate.${Date.now().toString(36)}`;
const releaseId = `release-shop-api-${version}`;
const env = rigEnv();
let worker: ChildProcess;
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  worker = spawnWorker('operate-test');
  ({ client, close: closeClient } = await temporalClient());
});
afterAll(async () => {
  await meridian(['abort', releaseId, '--reason', 'test over'], { env });
  await stopWorker(worker);
  await closeClient();
});

/** What an operator command printed with --json: the status it answered with. */
async function act(...args: string[]): Promise<ReleaseStatus> {
  const { code, stdout, stderr } = await meridian([...args, '--json'], { env });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(stdout) as ReleaseStatus;
}

describe('pause, resume and approve print the status after their effect', () => {
  it('answers a pause with Paused, a resume with the pause lifted, and an approval with the gate open', async () => {
    expect(
      (await meridian(['start', '-f', specFor(version), '--bake', '1s', '--canary-soak', '1s'], { env })).code,
    ).toBe(0);
    await statusWhen(client, releaseId, (s) => s.phase === 'WaitingForApproval', 'the after-canary gate', 240_000);

    const paused = await act('pause', releaseId, '--reason', 'dashboards');
    expect(paused).toMatchObject({ phase: 'Paused', paused: true });
    const resumed = await act('resume', releaseId);
    expect(resumed.paused).toBe(false);
    expect(resumed.phase).not.toBe('Paused');

    const approved = await act('approve', releaseId, '--gate', 'after-canary');
    expect(approved.phase).not.toBe('WaitingForApproval');
    expect(approved.gate).not.toBe('after-canary');
    expect(approved.actions).toContainEqual(expect.objectContaining({ action: 'approve after-canary' }));

    // The text form prints the same status.
    const text = await meridian(['status', releaseId], { env });
    expect(text.stdout).toMatch(new RegExp(`^${releaseId}  (Running|Succeeded)`));
  });
});
