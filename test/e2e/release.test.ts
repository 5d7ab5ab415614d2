import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { readRevision, revisionSecretName } from '../../src/infra/kubernetes/region-revision';
import { releaseInputOf } from '../../src/client/commands/start';
import { loadRelease } from '../../src/infra/release-files/release-file';
import { releaseWorkflowType, taskQueue } from '../../src/workflows/definitions';
import { pushDemoImage } from '../../src/rig/demo-image';
import { startTemporal, stopTemporal } from '../../src/rig/temporal-dev-server';
import { requireTool } from '../../src/rig/toolchain';
import { meridian } from '../support/cli';
import {
  deployedImages,
  idOf,
  noGate,
  rig,
  rigEnv,
  servedVersion,
  specFor,
  spawnWorker,
  statusWhen,
  stopWorker,
  temporalCli,
  temporalClient,
} from '../support/e2e';
import { eventually } from '../support/eventually';

const stamp = Date.now().toString(36);
const canary = rig.regions.find((r) => r.name === 'us-east-canary')!;

let worker: ChildProcess;
let client: Client;
let closeClient: () => Promise<void>;
const env = rigEnv();

beforeAll(async () => {
  worker = spawnWorker('worker-1');
  ({ client, close: closeClient } = await temporalClient());
});

/** Blob files in a registry's storage: each blob is a `data` file under blobs/. */
function countBlobs(dir: string): number {
  const walk = (d: string): number =>
    readdirSync(d, { withFileTypes: true }).reduce(
      (n, e) => n + (e.isDirectory() ? walk(join(d, e.name)) : e.name === 'data' ? 1 : 0),
      0,
    );
  const blobs = join(dir, 'docker', 'registry', 'v2', 'blobs');
  return existsSync(blobs) ? walk(blobs) : 0;
}

/** skopeo, an OCI client independent of Meridian's, to look at what the registries hold. */
async function skopeo(...args: string[]): Promise<string> {
  return (await promisify(execFile)(requireTool('skopeo'), args, { maxBuffer: 16 * 2 ** 20 })).stdout;
}

afterAll(async () => {
  await stopWorker(worker);
  await closeClient();
});

describe('a release on the local rig', () => {
  const good = `2.5.0-e2e.${stamp}`;

  it('reaches every region: each cluster runs the new image and each demo service serves the new version', async () => {
    const file = specFor(good);
    const started = await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '2s'], { env });
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`started ${idOf(good)}`);
    expect(started.stdout).toContain(`http://127.0.0.1:8233/namespaces/default/workflows/${idOf(good)}`);

    const waiting = await statusWhen(
      client,
      idOf(good),
      (s) => s.phase === 'WaitingForApproval',
      'the after-canary gate',
    );
    expect(waiting.gate).toBe('after-canary');
    const approved = await meridian(['approve', idOf(good), '--reason', 'canary healthy'], {
      env: { ...env, MERIDIAN_OPERATOR: 'e2e@ci' },
    });
    expect(approved.code).toBe(0);
    // Approving the same gate again is harmless; approving when no gate waits is refused with exit 2.
    expect((await meridian(['approve', idOf(good), '--gate', 'after-canary'], { env })).code).toBe(0);

    const watched = await meridian(['watch', idOf(good)], { env, timeoutMs: 240_000 });
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('Succeeded');
    expect((await meridian(['approve', idOf(good)], { env })).stderr).toMatch(/approve refused|no running release/);

    // Every region runs the same bits: the source's digest, from its own registry, which skopeo (an
    // independent client) finds there under the same digest, with every platform.
    const sourceRaw = await skopeo('inspect', '--raw', '--tls-verify=false', 'docker://127.0.0.1:5100/shop/api:2.4.0');
    const digest = `sha256:${createHash('sha256').update(sourceRaw).digest('hex')}`;
    const images = await deployedImages();
    const registries = new Map(loadRelease(file).spec.spec.regions.map((r) => [r.name, r.registry]));
    for (const registry of new Set(registries.values())) {
      expect(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry}/shop/api:2.4.0`)).toBe(
        sourceRaw,
      );
      const arm = JSON.parse(
        await skopeo(
          'inspect',
          '--tls-verify=false',
          '--override-arch',
          'arm64',
          `docker://${registry}/shop/api@${digest}`,
        ),
      );
      expect(arm.Architecture).toBe('arm64');
    }
    for (const region of rig.regions.filter((r) => registries.has(r.name))) {
      const registry = registries.get(region.name);
      expect(images[region.name]).toMatchObject({ image: `${registry}/shop/api:2.4.0@${digest}`, version: good });
      await eventually(
        async () => ((await servedVersion(region.port)) === good ? true : undefined),
        `${region.name} to serve ${good}`,
        20_000,
      );
    }
    const status = await meridian(['status', idOf(good), '--json'], { env });
    const parsed = JSON.parse(status.stdout);
    expect(parsed.phase).toBe('Succeeded');
    expect(
      parsed.registries.map((r: { registry: string; phase: string; digest: string }) => [
        r.registry,
        r.phase,
        r.digest,
      ]),
    ).toEqual([...new Set(registries.values())].map((registry) => [registry, 'Ready', digest]));
    expect(parsed.actions).toContainEqual(
      expect.objectContaining({ action: 'approve after-canary', by: 'e2e@ci', reason: 'canary healthy' }),
    );

    const listed = await meridian(['list', '--app', 'shop-api', '--json'], { env });
    expect(JSON.parse(listed.stdout).map((r: { releaseId: string }) => r.releaseId)).toContain(idOf(good));
  }, 360_000);

  it('treats a repeated start as harmless, and refuses a different spec under the same id', async () => {
    const again = await meridian(['start', '-f', specFor(good)], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already started with this spec');

    const changed = await meridian(
      ['start', '-f', specFor(good, (doc) => doc.setIn(['spec', 'template', 'values', 'replicas'], 4))],
      { env },
    );
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain(`release ${idOf(good)} already exists with a different spec`);
  });

  it('halts a bad release at the canary, where the cluster runs the old image again', async () => {
    const before = await deployedImages();
    const bad = `2.4.3-mojibake.${stamp}`; // examples/rig.yaml: 2.4.3-mojibake mangles Hangul and Arabic input
    expect(
      (await meridian(['start', '-f', specFor(bad, noGate), '--bake', '1s', '--canary-soak', '1s'], { env })).code,
    ).toBe(0);

    const halted = await statusWhen(client, idOf(bad), (s) => s.phase === 'Halted', 'the release to halt');
    expect(halted.regions[0]).toMatchObject({ name: 'us-east-canary', phase: 'RolledBack' });
    expect(halted.regions[0].error).toContain('search in Korean');
    expect(halted.regions.slice(1).every((r) => r.phase === 'Pending')).toBe(true);

    // Through the Kubernetes API: the canary runs what it ran before; nothing else was touched.
    const after = await deployedImages();
    expect(after[canary.name]).toMatchObject({ image: before[canary.name].image, version: good });
    for (const region of rig.regions.filter((r) => r.name !== canary.name))
      expect(after[region.name]).toEqual(before[region.name]);
    await eventually(
      async () => ((await servedVersion(canary.port)) === good ? true : undefined),
      'the canary to serve the good version again',
      20_000,
    );

    const aborted = await meridian(['abort', idOf(bad), '--reason', 'Hangul broken'], { env });
    expect(aborted.code).toBe(0);
    const watched = await meridian(['watch', idOf(bad)], { env });
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain('Failed');
  });

  it('pauses and resumes through the temporal CLI with the documented signal names', async () => {
    const version = `2.5.1-e2e.${stamp}`;
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '1s', '--canary-soak', '4s'], { env })).code,
    ).toBe(0);
    await statusWhen(client, idOf(version), (s) => s.regions[0].phase === 'Baking', 'the canary to bake');
    await temporalCli(
      'workflow',
      'signal',
      '--workflow-id',
      idOf(version),
      '--name',
      'pause',
      '--input',
      '{"by":"ops@temporal-cli","reason":"look at dashboards"}',
    );
    const paused = await statusWhen(client, idOf(version), (s) => s.paused, 'the pause');
    expect(paused.actions).toContainEqual(expect.objectContaining({ action: 'pause', by: 'ops@temporal-cli' }));

    // The canary's soak ends while paused: it holds there, and no region of wave 2 starts.
    await statusWhen(
      client,
      idOf(version),
      (s) => s.regions[0].waitingFor?.includes('an operator to resume') ?? false,
      'the canary to hold after its soak',
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const held = JSON.parse(
      await temporalCli('workflow', 'query', '--workflow-id', idOf(version), '--type', 'status', '--output', 'json'),
    );
    const heldStatus = held.queryResult?.[0] ?? held[0] ?? held;
    expect(heldStatus.regions.slice(1).every((r: { phase: string }) => r.phase === 'Pending')).toBe(true);
    // Paused is the release's phase, in the status and in the search attribute that list filters on.
    expect(heldStatus.phase).toBe('Paused');
    const pausedOnes = await eventually(
      async () => {
        const listed = await meridian(['list', '--app', 'shop-api', '--phase', 'Paused', '--json'], { env });
        const ids = (JSON.parse(listed.stdout) as { releaseId: string }[]).map((r) => r.releaseId);
        return ids.includes(idOf(version)) ? ids : undefined;
      },
      'list --phase Paused to show the paused release',
      20_000,
    );
    expect(pausedOnes).toContain(idOf(version));

    await temporalCli('workflow', 'signal', '--workflow-id', idOf(version), '--name', 'resume');
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 240_000 })).code).toBe(0);
    // A signal without a by is recorded with the identity Temporal gives its sender (the worker's interceptor).
    const done = JSON.parse((await meridian(['status', idOf(version), '--json'], { env })).stdout) as {
      actions: { action: string; by: string }[];
    };
    expect(done.actions).toContainEqual(
      expect.objectContaining({ action: 'resume', by: expect.stringMatching(/^temporal-cli:/) }),
    );
  });

  it('stops the line: a freeze pauses every running release of the app and refuses new ones until lifted', async () => {
    const version = `2.5.4-e2e.${stamp}`;
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '1s', '--canary-soak', '4s'], { env })).code,
    ).toBe(0);
    await statusWhen(client, idOf(version), (s) => s.regions[0].phase === 'Baking', 'the canary to bake');
    const oncall = { ...env, MERIDIAN_OPERATOR: 'oncall@e2e' };
    const frozen = await meridian(['freeze', '--app', 'shop-api', '--reason', 'incident INC-42'], { env: oncall });
    expect(frozen.code).toBe(0);
    expect(frozen.stdout).toContain(`paused ${idOf(version)}`);
    const paused = await statusWhen(client, idOf(version), (s) => s.paused, 'the freeze to pause the release');
    expect(paused.actions).toContainEqual(
      expect.objectContaining({ action: 'pause', by: 'oncall@e2e', reason: 'freeze of shop-api: incident INC-42' }),
    );

    const refused = await meridian(['start', '-f', specFor(`2.5.5-e2e.${stamp}`, noGate)], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/shop-api is frozen by oncall@e2e since .*: incident INC-42; nothing started/);
    expect((await meridian(['freeze', '--app', 'shop-api'], { env })).stdout).toContain(
      'shop-api is already frozen by oncall@e2e',
    );

    // Started around the CLI (as with the temporal CLI or an SDK): the release finds the freeze and pauses itself.
    const sneaked = `2.5.7-e2e.${stamp}`;
    const { input } = releaseInputOf(
      loadRelease(specFor(sneaked, noGate)),
      { bakeMs: 1000, canarySoakMs: 1000 },
      'sdk@e2e',
      Date.now(),
    );
    await client.workflow.start(releaseWorkflowType, { workflowId: input.releaseId, taskQueue, args: [input] });
    const selfPaused = await statusWhen(
      client,
      idOf(sneaked),
      (s) => s.paused,
      'the release started during the freeze to pause itself',
    );
    expect(selfPaused.actions).toContainEqual(expect.objectContaining({ action: 'pause', by: 'freeze' }));
    expect(selfPaused.regions.every((r) => r.phase === 'Pending')).toBe(true);

    const lifted = await meridian(['unfreeze', '--app', 'shop-api', '--reason', 'INC-42 resolved'], { env: oncall });
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toContain(`resumed ${idOf(version)}`);
    expect(lifted.stdout).toContain(`resumed ${idOf(sneaked)}`);
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 240_000 })).code).toBe(0);
    expect((await meridian(['watch', idOf(sneaked)], { env, timeoutMs: 240_000 })).code).toBe(0);
    expect((await meridian(['unfreeze', '--app', 'shop-api'], { env })).stdout).toContain('shop-api is not frozen');
  }, 360_000);

  it('resumes an image copy cut short by a killed worker on another worker, without copying again what had arrived', async () => {
    const version = `2.5.6-e2e.${stamp}`;
    const tag = `big-${stamp}`;
    // An image big enough that copying it takes seconds: 2 platforms, 40 + 40 + 20 MB layers, the first shared.
    await pushDemoImage({
      registry: '127.0.0.1:5100',
      repository: 'shop/api',
      tag,
      layerBytes: [40e6, 40e6, 20e6],
      sharedLayers: 1,
      seed: `big ${stamp}`,
    });
    const europe = '127.0.0.1:5102';
    const blobFiles = () => countBlobs(join(rig.layout.dir, 'registries', '5102', 'data'));
    const before = blobFiles();
    const file = specFor(version, (doc) => (noGate(doc), doc.setIn(['spec', 'image', 'tag'], tag)));
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '1s'], { env })).code).toBe(0);
    // The first new blob has landed in Europe's registry: kill the worker in the middle of the copy.
    await eventually(
      async () => (blobFiles() > before ? true : undefined),
      'a first blob in the Europe registry',
      60_000,
      20,
    );
    await stopWorker(worker, 'SIGKILL');
    worker = spawnWorker('worker-3');

    // The copy's heartbeat times out, another worker copies again and skips what had arrived.
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 300_000 })).code).toBe(0);
    const status = await statusWhen(client, idOf(version), (s) => s.phase === 'Succeeded', 'the release');
    const eu = status.registries?.find((r) => r.registry === europe);
    expect(eu?.phase).toBe('Ready');
    expect(Number(/(\d+) already there/.exec(eu?.detail ?? '')?.[1])).toBeGreaterThan(0);
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${europe}/shop/api:${tag}`);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(eu?.digest);
    expect((await deployedImages())['eu-west'].image).toBe(`${europe}/shop/api:${tag}@${eu?.digest}`);

    // An ended release shows its status with no worker running: a query needs one, its result does not.
    await stopWorker(worker);
    const ended = await meridian(['status', idOf(version)], { env });
    worker = spawnWorker('worker-4');
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain(`${idOf(version)}  Succeeded`);
  }, 420_000);

  it('finishes with each region deployed once when its worker is killed during a deploy and another takes over', async () => {
    const version = `2.5.2-e2e.${stamp}`;
    const before = await deployedImages();
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '1s', '--canary-soak', '1s'], { env })).code,
    ).toBe(0);
    await statusWhen(
      client,
      idOf(version),
      (s) => s.regions.some((r) => r.wave === 2 && ['Deploying', 'RollingOut'].includes(r.phase)),
      'a wave-2 region to deploy',
    );
    await stopWorker(worker, 'SIGKILL');
    worker = spawnWorker('worker-2');

    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 300_000 })).code).toBe(0);
    const after = await deployedImages();
    const { results } = (await client.workflow.getHandle(idOf(version)).result()) as {
      results: { name: string; attempt: number }[];
    };
    const production = rig.regions.filter((r) => r.name !== 'staging');
    for (const region of production) {
      expect(after[region.name].version).toBe(version);
      // One new generation per region: the new spec was applied, and a retried apply changed nothing.
      expect(after[region.name].generation).toBe((before[region.name].generation ?? 0) + 1);
      // The previous revision was recorded once, before the deploy: it holds the old version, not the new.
      const revision = await readRevision(
        rig.kube(region.context),
        region.namespace,
        revisionSecretName('shop-api', idOf(version)),
      );
      const previous = revision?.find((e) => e.ref.kind === 'Deployment')?.previous as {
        spec?: { template?: { metadata?: { labels?: Record<string, string> } } };
      } | null;
      expect(previous?.spec?.template?.metadata?.labels?.['app.kubernetes.io/version']).toBe(
        before[region.name].version,
      );
    }
    expect(results.map((r) => r.attempt)).toEqual(production.map(() => 1));
  }, 360_000);

  it('keeps a bake deadline when the Temporal dev server restarts during the bake', async () => {
    const version = `2.5.3-e2e.${stamp}`;
    expect(
      (await meridian(['start', '-f', specFor(version, noGate), '--bake', '1s', '--canary-soak', '25s'], { env })).code,
    ).toBe(0);
    const baking = await statusWhen(
      client,
      idOf(version),
      (s) => s.regions[0].phase === 'Baking',
      'the canary to bake',
    );
    const until = baking.regions[0].until!;

    await closeClient();
    expect(await stopTemporal(rig.layout)).toBe(true);
    await startTemporal(rig.config, rig.layout);
    ({ client, close: closeClient } = await temporalClient());

    // The restart takes seconds and the soak 25 s: the canary is still baking, towards the same deadline.
    const resumed = await statusWhen(client, idOf(version), () => true, 'the release after the restart');
    expect(resumed.regions[0]).toMatchObject({ phase: 'Baking', until });
    expect((await meridian(['watch', idOf(version)], { env, timeoutMs: 240_000 })).code).toBe(0);
    const canaryRun = await client.workflow
      .getHandle(resumed.regions[0].workflowId ?? `${idOf(version)}.us-east-canary.1`)
      .describe();
    // The bake ended no earlier than its deadline: the timer survived the restart unchanged.
    expect(canaryRun.closeTime!.getTime()).toBeGreaterThanOrEqual(new Date(until).getTime());
  }, 360_000);
});
