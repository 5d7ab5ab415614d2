import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { copyImage, type CopyProgress, verifyImage } from '../../../src/infra/registry/copy-image';
import { RegistryClient, RegistryError } from '../../../src/infra/registry/registry-client';
import { type PushedDemoImage, pushDemoImage } from '../../../src/rig/demo-image';
import { freePort, startTestRegistry, type TestRegistry } from '../../support/registry';

const run = promisify(execFile);

/** skopeo's view of an image in a plain-http registry. */
async function skopeo(...args: string[]): Promise<Buffer> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', ...args], {
    encoding: 'buffer',
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

let a: TestRegistry;
let b: TestRegistry;
let image: PushedDemoImage;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestRegistry(), startTestRegistry()]);
  image = await pushDemoImage({ registry: a.host, repository: 'shop/api', tag: '2.4.0', seed: 'copy-image.test' });
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('copyImage between two registries', () => {
  it('copies every platform byte for byte, each shared blob once', async () => {
    const progress: CopyProgress[] = [];
    const landed: number[] = [];
    const result = await copyImage({
      source: { registry: a.host, repository: 'shop/api', tag: '2.4.0' },
      target: { registry: b.host, repository: 'shop/api', tag: '2.4.0' },
      onProgress: (p) => progress.push(p),
      onBlobCopied: (bytes) => landed.push(bytes),
    });

    expect(result.digest).toBe(image.digest);
    expect(result.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(result.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    // 2 configs, 1 layer shared by both platforms, 1 layer of each platform's own: 5 blobs, not 6.
    expect(image.blobs).toBe(5);
    expect(result.blobs).toEqual({ copied: 5, skipped: 0, mounted: 0, bytesCopied: image.bytes });
    expect(progress.at(-1)).toEqual({ blobsDone: 5, blobsTotal: 5, bytesCopied: image.bytes });
    // Each streamed blob's size once, as it lands (the activity counts these as meridian_image_copy_bytes_total).
    expect(landed).toHaveLength(5);
    expect(landed.reduce((sum, n) => sum + n, 0)).toBe(image.bytes);

    // skopeo reads the same index bytes from the target, and each platform's image.
    const raw = await skopeo('--raw', `docker://${b.host}/shop/api:2.4.0`);
    expect(sha256(raw)).toBe(image.digest);
    const index = JSON.parse(raw.toString('utf8')) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    const layers: string[][] = [];
    for (const arch of ['amd64', 'arm64']) {
      const inspected = JSON.parse(
        (await skopeo('--override-os', 'linux', '--override-arch', arch, `docker://${b.host}/shop/api:2.4.0`)).toString(
          'utf8',
        ),
      ) as {
        Architecture: string;
        Os: string;
        Digest: string;
        Layers: string[];
      };
      expect(inspected).toMatchObject({ Architecture: arch, Os: 'linux', Digest: image.digest });
      // The platform's manifest, by digest, has the same bytes and lists the layers skopeo saw.
      const platformDigest = index.manifests.find((m) => m.platform.architecture === arch)?.digest as string;
      const manifest = await skopeo('--raw', `docker://${b.host}/shop/api@${platformDigest}`);
      expect(sha256(manifest)).toBe(platformDigest);
      expect(
        (JSON.parse(manifest.toString('utf8')) as { layers: { digest: string }[] }).layers.map((l) => l.digest),
      ).toEqual(inspected.Layers);
      layers.push(inspected.Layers);
    }
    expect(layers[0][0]).toBe(layers[1][0]);
    expect(layers[0][1]).not.toBe(layers[1][1]);
  });

  it('copies nothing the second time', async () => {
    const result = await copyImage({
      source: { registry: a.host, repository: 'shop/api', tag: '2.4.0' },
      target: { registry: b.host, repository: 'shop/api', tag: '2.4.0' },
    });
    expect(result.digest).toBe(image.digest);
    expect(result.blobs).toEqual({ copied: 0, skipped: 5, mounted: 0, bytesCopied: 0 });
  });

  it('copies by digest to another tag, skipping the blobs the repository has', async () => {
    const result = await copyImage({
      source: { registry: a.host, repository: 'shop/api', digest: image.digest },
      target: { registry: b.host, repository: 'shop/api', tag: 'stable' },
    });
    expect(result.blobs).toEqual({ copied: 0, skipped: 5, mounted: 0, bytesCopied: 0 });
    expect(await new RegistryClient(b.host).headManifest('shop/api', 'stable')).toMatchObject({ digest: image.digest });
  });

  it('mounts blobs from the source repository when the target is in the same registry', async () => {
    const result = await copyImage({
      source: { registry: a.host, repository: 'shop/api', tag: '2.4.0' },
      target: { registry: a.host, repository: 'mirror/shop-api', tag: '2.4.0' },
    });
    expect(result.digest).toBe(image.digest);
    expect(result.blobs).toEqual({ copied: 0, skipped: 0, mounted: 5, bytesCopied: 0 });
    await expect(
      verifyImage({
        ref: { registry: a.host, repository: 'mirror/shop-api', tag: '2.4.0' },
        expectedDigest: image.digest,
      }),
    ).resolves.toMatchObject({ present: true });
  });

  it('copies an update to a target holding the previous version: its new blobs, nothing else', async () => {
    const push = (tag: string, layerBytes: number[]) =>
      pushDemoImage({ registry: a.host, repository: 'shop/web', tag, layerBytes, sharedLayers: 2, seed: 'update' });
    const previous = await push('1.0.0', [8192, 6144, 4096]);
    // One byte more in the last layer: each platform gets a new last layer and config, and keeps the rest.
    const next = await push('1.1.0', [8192, 6144, 4097]);
    const copy = (tag: string) =>
      copyImage({
        source: { registry: a.host, repository: 'shop/web', tag },
        target: { registry: b.host, repository: 'shop/web', tag },
      });
    await copy('1.0.0');
    const update = await copy('1.1.0');
    // 2 shared layers, then per platform: the last layer and the config are new.
    expect(previous.blobs).toBe(6);
    expect(update.blobs).toMatchObject({ copied: 4, skipped: 2, mounted: 0 });
    await expect(
      verifyImage({ ref: { registry: b.host, repository: 'shop/web', tag: '1.1.0' }, expectedDigest: next.digest }),
    ).resolves.toMatchObject({ present: true, digest: next.digest });
  });

  it('fails on a missing source image with a message that says what to do, and leaves the target alone', async () => {
    const error = await copyImage({
      source: { registry: a.host, repository: 'shop/api', tag: '9.9.9' },
      target: { registry: b.host, repository: 'untouched/api', tag: '9.9.9' },
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retryable: false, status: 404, registry: a.host, exitCode: 2 });
    expect((error as Error).message).toBe(`no image shop/api:9.9.9 in ${a.host}: push it first, or check image.tag`);
    const tags = await fetch(`http://${b.host}/v2/untouched/api/tags/list`);
    expect(tags.status).toBe(404);
  });

  it('fails retryably when a registry is down', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const error = await copyImage({
      source: { registry: a.host, repository: 'shop/api', tag: '2.4.0' },
      target: { registry: down, repository: 'shop/api', tag: '2.4.0' },
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retryable: true, registry: down, exitCode: 3 });
    expect((error as Error).message).toBe(
      `cannot reach registry ${down} to look up manifest shop/api:2.4.0 (ECONNREFUSED at http://${down}): is the registry running at that address?`,
    );
  });

  it('resumes a copy that was cut off, skipping the blobs already there', async () => {
    const big = await pushDemoImage({
      registry: a.host,
      repository: 'shop/worker',
      tag: '1.0.0',
      layerBytes: [8192, 4096, 4096],
      seed: 'resume',
    });
    const source = { registry: a.host, repository: 'shop/worker', tag: '1.0.0' };
    const target = { registry: b.host, repository: 'shop/worker', tag: '1.0.0' };
    const stop = new AbortController();
    const interrupted = await copyImage({
      source,
      target,
      concurrency: 1,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.blobsDone >= 1) stop.abort();
      },
    }).catch((err: unknown) => err);
    expect((interrupted as Error).name).toBe('AbortError');
    await expect(verifyImage({ ref: target })).resolves.toEqual({ present: false });

    const resumed = await copyImage({ source, target });
    expect(resumed.digest).toBe(big.digest);
    expect(resumed.blobs.skipped).toBe(1);
    expect(resumed.blobs.copied).toBe(big.blobs - 1);
    expect(resumed.blobs.copied).toBeLessThan(big.blobs);
    await expect(verifyImage({ ref: target, expectedDigest: big.digest })).resolves.toEqual({
      present: true,
      digest: big.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64', 'linux/arm64'],
    });
  });
});

describe('copyImage to several registries at once', () => {
  let targets: TestRegistry[] = [];
  beforeAll(async () => {
    targets = await Promise.all([startTestRegistry(), startTestRegistry(), startTestRegistry()]);
  });
  afterAll(async () => {
    await Promise.all(targets.map((t) => t.stop()));
  });

  it('copies to each in full, reading a blob from the source once for the copies that ask for it together', async () => {
    const fanout = await pushDemoImage({
      registry: a.host,
      repository: 'shop/fanout',
      tag: '1.0.0',
      layerBytes: [3 * 1024 * 1024, 2 * 1024 * 1024, 1024 * 1024],
      seed: 'fanout',
    });
    const downloads = jest.spyOn(RegistryClient.prototype, 'getBlob');
    try {
      const progress: CopyProgress[][] = targets.map(() => []);
      const results = await Promise.all(
        targets.map((t, i) =>
          copyImage({
            source: { registry: a.host, repository: 'shop/fanout', tag: '1.0.0' },
            target: { registry: t.host, repository: 'shop/fanout', tag: '1.0.0' },
            onProgress: (p) => progress[i].push(p),
          }),
        ),
      );
      for (const [i, result] of results.entries()) {
        expect(result.blobs).toEqual({ copied: fanout.blobs, skipped: 0, mounted: 0, bytesCopied: fanout.bytes });
        expect(progress[i].at(-1)).toEqual({
          blobsDone: fanout.blobs,
          blobsTotal: fanout.blobs,
          bytesCopied: fanout.bytes,
        });
        await expect(
          verifyImage({ ref: { registry: targets[i].host, repository: 'shop/fanout', tag: '1.0.0' } }),
        ).resolves.toMatchObject({ present: true, digest: fanout.digest });
      }
      // Three copies on their own would download every blob three times; how many are shared depends on
      // timing (a copy that asks after another's download ended starts its own), so only "fewer".
      expect(downloads.mock.calls.length).toBeLessThan(3 * fanout.blobs);
    } finally {
      downloads.mockRestore();
    }
  });
});

describe('verifyImage', () => {
  it('tells a whole image from a missing one, a different one, and one with a blob gone', async () => {
    const ref = { registry: b.host, repository: 'shop/api', tag: '2.4.0' };
    await expect(verifyImage({ ref, expectedDigest: image.digest })).resolves.toMatchObject({
      present: true,
      digest: image.digest,
    });
    await expect(verifyImage({ ref: { ...ref, tag: '0.0.0' } })).resolves.toEqual({ present: false });
    const other = `sha256:${'0'.repeat(64)}`;
    await expect(verifyImage({ ref, expectedDigest: other })).resolves.toEqual({
      present: false,
      digest: image.digest,
    });

    const copy = await copyImage({ source: ref, target: { ...ref, repository: 'broken/api' } });
    const index = JSON.parse(
      (await new RegistryClient(b.host).getManifest('broken/api', copy.digest)).body.toString('utf8'),
    ) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(
      (await new RegistryClient(b.host).getManifest('broken/api', index.manifests[1].digest)).body.toString('utf8'),
    ) as { layers: { digest: string }[] };
    const deleted = await fetch(`http://${b.host}/v2/broken/api/blobs/${manifest.layers[1].digest}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(202);
    await expect(verifyImage({ ref: { ...ref, repository: 'broken/api' } })).resolves.toEqual({
      present: false,
      digest: image.digest,
    });
  });
});
