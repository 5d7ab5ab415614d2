import { ApplicationFailure } from '@temporalio/common';
import { verifyImage } from '../../../src/infra/registry/copy-image';
import { replicateImage } from '../../../src/infra/registry/replicate-image';
import { RegistryError } from '../../../src/infra/registry/registry-client';
import type { ReleaseRef } from '../../../src/domain/release-input';
import { pushDemoImage } from '../../../src/rig/demo-image';
import { freePort, startTestRegistry, type TestRegistry } from '../../support/registry';

let source: TestRegistry;
let regional: TestRegistry;
let pushed: Awaited<ReturnType<typeof pushDemoImage>>;

beforeAll(async () => {
  [source, regional] = await Promise.all([startTestRegistry(), startTestRegistry()]);
  pushed = await pushDemoImage({
    registry: source.host,
    repository: 'shop/api',
    tag: '2.4.0',
    seed: 'replicate-image test',
  });
}, 60_000);
afterAll(async () => {
  await Promise.all([source?.stop(), regional?.stop()]);
});

const release = (image: Partial<ReleaseRef['image']> = {}): ReleaseRef => ({
  releaseId: 'release-shop-api-2.4.0',
  app: 'shop-api',
  version: '2.4.0',
  image: {
    name: 'shop/api',
    tag: '2.4.0',
    source: source.host,
    replication: { mode: 'copy', timeout: 5_000 },
    ...image,
  },
});
const heartbeats: unknown[] = [];
const deps = { heartbeat: (p: unknown) => void heartbeats.push(p), pollMs: 100 };

describe('replicateImage', () => {
  it('copies the image to a regional registry by digest, every platform, and heartbeats its progress', async () => {
    const done = await replicateImage({ release: release(), registry: regional.host }, deps);
    expect(done).toMatchObject({
      registry: regional.host,
      digest: pushed.digest,
      how: 'copied',
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    expect(done.blobs.copied).toBe(pushed.blobs);
    expect(heartbeats.length).toBeGreaterThan(0);
    // Again: nothing to copy.
    const again = await replicateImage({ release: release(), registry: regional.host }, deps);
    expect(again.blobs).toMatchObject({ copied: 0, bytesCopied: 0 });
    expect(again.digest).toBe(pushed.digest);
  });

  it('only verifies a region that pulls from the source registry itself', async () => {
    const done = await replicateImage({ release: release(), registry: source.host }, deps);
    expect(done).toMatchObject({ how: 'source', digest: pushed.digest, blobs: { copied: 0 } });
  });

  it('geo-replicated: waits for the registry to have the digest, and fails clearly when it does not in time', async () => {
    const geo = release({ replication: { mode: 'geo-replicated', timeout: 1_000 } });
    expect(await replicateImage({ release: geo, registry: regional.host }, deps)).toMatchObject({
      how: 'geo-replicated',
      digest: pushed.digest,
    });
    const empty = await startTestRegistry();
    try {
      const failure = await replicateImage({ release: geo, registry: empty.host }, deps).catch((err) => err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'ImageNotReplicated', nonRetryable: true });
      expect(failure.message).toContain(`${empty.host} did not have shop/api@${pushed.digest} within 1s`);
    } finally {
      await empty.stop();
    }
  });

  it('fails at once, not retried, when the source has no such image; the regional registry gets nothing', async () => {
    const failure = await replicateImage({ release: release({ tag: '9.9.9' }), registry: regional.host }, deps).catch(
      (err) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ImageUnavailable', nonRetryable: true });
    expect(failure.message).toMatch(/shop\/api:9\.9\.9/);
    expect(await verifyImage({ ref: { registry: regional.host, repository: 'shop/api', tag: '9.9.9' } })).toMatchObject(
      { present: false },
    );
  });

  it('leaves an unreachable registry to the retry policy: a retryable error that names it', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const failure = await replicateImage({ release: release(), registry: down }, deps).catch((err) => err);
    expect(failure).toBeInstanceOf(RegistryError);
    expect(failure.retryable).toBe(true);
    expect(failure.message).toContain(down);
  });
});
