import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import type { ReleaseStatus } from '../../src/domain/release-status';
import type { ReleaseResult } from '../../src/domain/release-results';
import { meridian } from '../support/cli';
import {
  deployedImages,
  idOf,
  noGate,
  rig,
  rigEnv,
  specFor,
  spawnWorker,
  statusWhen,
  stopWorker,
  temporalClient,
} from '../support/e2e';
import { killPostgres, killTemporalServer, restartMissing } from '../support/production';

/**
 * Hard failures on the production profile: workers SIGKILLed, the Temporal server killed and started
 * again, PostgreSQL killed and started again. Each time the release completes, every region is
 * deployed exactly once (its Deployment's generation +1, one attempt), and the bakes end no earlier
 * than their deadlines.
 */
const stamp = Date.now().toString(36);
const env = rigEnv();
let workers: ChildProcess[] = [];
let client: Client;
let closeClient: () => Promise<void>;
let spawned = 0;
const newWorker = () => spawnWorker(`failures-${++spawned}`);

beforeAll(async () => {
  workers = [newWorker(), newWorker()];
  ({ client, close: closeClient } = await temporalClient());
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w)));
  await closeClient().catch(() => undefined);
});

/** Kills one of the two workers and starts a replacement, as a crashed pod is replaced. */
async function killAWorker(): Promise<void> {
  const [victim, ...rest] = workers;
  await stopWorker(victim, 'SIGKILL');
  workers = [...rest, newWorker()];
}

/** Checks the end state: Succeeded, every region once (generation +1, attempt 1), every bake kept its deadline. */
async function expectDeployedOnce(
  releaseId: string,
  before: Awaited<ReturnType<typeof deployedImages>>,
  version: string,
  deadlines: Map<string, string>,
): Promise<void> {
  const result = (await client.workflow.getHandle(releaseId).result()) as ReleaseResult;
  expect(result.phase).toBe('Succeeded');
  const after = await deployedImages();
  const production = rig.regions.filter((r) => r.name !== 'staging');
  for (const region of production) {
    expect(after[region.name].version).toBe(version);
    expect(after[region.name].generation).toBe((before[region.name].generation ?? 0) + 1);
  }
  expect(result.results.map((r) => r.attempt)).toEqual(production.map(() => 1));
  for (const [region, until] of deadlines) {
    const run = await client.workflow.getHandle(`${releaseId}.${region}.1`).describe();
    expect(run.closeTime!.getTime()).toBeGreaterThanOrEqual(new Date(until).getTime());
  }
}

/** Records the bake deadline of every region seen baking, until `done` holds. */
function bakingDeadlines(status: ReleaseStatus, into: Map<string, string>): void {
  for (const r of status.regions) if (r.phase === 'Baking' && r.until) into.set(r.name, r.until);
}

describe('hard failures on the production profile', () => {
  it('completes with each region deployed once when a worker is SIGKILLed during a deploy and another during a bake', async () => {
    const version = `2.7.0-prod.${stamp}`;
    const before = await deployedImages();
    const deadlines = new Map<string, string>();
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '6s', '--canary-soak', '3s'], { env })).code,
    ).toBe(0);
    await statusWhen(
      client,
      idOf(version),
      (s) => s.regions.some((r) => r.wave === 2 && ['Deploying', 'RollingOut'].includes(r.phase)),
      'a wave-2 region to deploy',
      240_000,
    );
    await killAWorker();
    const baking = await statusWhen(
      client,
      idOf(version),
      (s) => s.regions.some((r) => (r.wave ?? 0) >= 3 && r.phase === 'Baking'),
      'a wave-3 region to bake',
      300_000,
    );
    bakingDeadlines(baking, deadlines);
    await killAWorker();
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 400_000 })).code).toBe(0);
    await expectDeployedOnce(idOf(version), before, version, deadlines);
  }, 600_000);

  it('keeps the bake deadline when the Temporal server is killed mid-bake and started again', async () => {
    const version = `2.7.1-prod.${stamp}`;
    const before = await deployedImages();
    const deadlines = new Map<string, string>();
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '1s', '--canary-soak', '25s'], { env })).code,
    ).toBe(0);
    const baking = await statusWhen(
      client,
      idOf(version),
      (s) => s.regions[0].phase === 'Baking',
      'the canary to bake',
      240_000,
    );
    bakingDeadlines(baking, deadlines);
    await closeClient();
    killTemporalServer();
    const down = Date.now();
    await restartMissing();
    ({ client, close: closeClient } = await temporalClient());
    process.stderr.write(
      `production e2e: Temporal server killed and serving again after ${((Date.now() - down) / 1000).toFixed(1)}s\n`,
    );
    const resumed = await statusWhen(client, idOf(version), () => true, 'the release after the restart', 120_000);
    expect(resumed.regions[0]).toMatchObject({ phase: 'Baking', until: deadlines.get(resumed.regions[0].name) });
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 400_000 })).code).toBe(0);
    await expectDeployedOnce(idOf(version), before, version, deadlines);
  }, 600_000);

  it('completes with each region deployed once when PostgreSQL is killed mid-release and started again', async () => {
    const version = `2.7.2-prod.${stamp}`;
    const before = await deployedImages();
    const deadlines = new Map<string, string>();
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '4s', '--canary-soak', '2s'], { env })).code,
    ).toBe(0);
    const deploying = await statusWhen(
      client,
      idOf(version),
      (s) => s.regions.some((r) => r.wave === 2 && ['Deploying', 'RollingOut', 'Checking', 'Baking'].includes(r.phase)),
      'wave 2 to start',
      240_000,
    );
    bakingDeadlines(deploying, deadlines);
    killPostgres();
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    await restartMissing();
    process.stderr.write(
      `production e2e: PostgreSQL killed and accepting again after ${((Date.now() - down) / 1000).toFixed(1)}s\n`,
    );
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 400_000 })).code).toBe(0);
    await expectDeployedOnce(idOf(version), before, version, deadlines);
  }, 600_000);
});
