import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import type { ReleaseResult } from '../../src/domain/release-results';
import { meridian } from '../support/cli';
import { noGate, rigEnv, specFor, spawnWorker, statusWhen, stopWorker, temporalClient } from '../support/e2e';
import { workerIdentities } from '../support/production';

/**
 * SIGTERM drains a worker: it stops polling, the activity attempt it holds finishes on it, and it exits
 * 0 within its grace; a replacement carries on. Nothing is retried, so no step ran twice.
 */
const stamp = Date.now().toString(36);
const env = rigEnv();
const version = `2.9.0-prod.${stamp}`;
const releaseId = `release-shop-api-${version}`;
let first: ChildProcess;
let second: ChildProcess | undefined;
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  first = spawnWorker('draining', { MERIDIAN_SHUTDOWN_GRACE: '60s' });
  ({ client, close: closeClient } = await temporalClient());
});

afterAll(async () => {
  await stopWorker(first, 'SIGKILL');
  if (second) await stopWorker(second);
  await closeClient();
});

describe('a worker stopped with SIGTERM', () => {
  it('finishes the activity attempt it holds, exits 0, and leaves nothing to retry', async () => {
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '1s', '--canary-soak', '1s'], { env })).code,
    ).toBe(0);
    const rolling = await statusWhen(
      client,
      releaseId,
      (s) => s.regions.some((r) => r.phase === 'RollingOut'),
      'a region rolling out',
      240_000,
    );
    const region = rolling.regions.find((r) => r.phase === 'RollingOut')!;
    const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
    const signalled = Date.now();
    first.kill('SIGTERM');
    second = spawnWorker('after-drain');
    const code = await exited;
    process.stderr.write(
      `production e2e: a SIGTERMed worker drained and exited ${code} after ${((Date.now() - signalled) / 1000).toFixed(1)}s\n`,
    );
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(60_000 + 5_000);

    expect((await meridian(['watch', releaseId], { env, timeoutMs: 400_000 })).code).toBe(0);
    const result = (await client.workflow.getHandle(releaseId).result()) as ReleaseResult;
    expect(result.phase).toBe('Succeeded');
    // No activity of any region ran a second attempt: the drained one was finished, not abandoned.
    for (const r of result.results) {
      const history = await client.workflow.getHandle(`${releaseId}.${r.name}.${r.attempt}`).fetchHistory();
      const attempts = (history.events ?? [])
        .map((e) => e.activityTaskStartedEventAttributes?.attempt)
        .filter((a) => a !== undefined && a !== null);
      expect(attempts.every((a) => a === 1)).toBe(true);
    }
    // The region that was rolling out at the signal finished that step on the draining worker.
    const ids = await workerIdentities(client, `${releaseId}.${region.name}.1`);
    expect([...ids].some((id) => id.startsWith(`${first.pid}@`))).toBe(true);
  }, 600_000);
});
