import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { digestOf } from '../../../src/infra/registry/content-digest';
import { RegistryClient } from '../../../src/infra/registry/registry-client';
import { InvalidInputError } from '../../../src/domain/errors';
import { pushDemoImage } from '../../../src/rig/demo-image';
import { startTestRegistry, type TestRegistry } from '../../support/registry';

// src/rig/demo-image.ts is tested here, beside the registry client it pushes with: test/rig holds the
// suites that need the shared local rig, and this one starts its own registry.

const run = promisify(execFile);
type Index = {
  mediaType: string;
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    platform: { os: string; architecture: string; variant?: string };
  }[];
};
type Manifest = {
  mediaType: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
};
type Config = { architecture: string; os: string; variant?: string; rootfs: { type: string; diff_ids: string[] } };

let registry: TestRegistry;
let client: RegistryClient;
let scratch: string;

beforeAll(async () => {
  registry = await startTestRegistry();
  client = new RegistryClient(registry.host);
  scratch = mkdtempSync(join(tmpdir(), 'meridian-demo-image-'));
});
afterAll(async () => {
  await registry?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function json<T>(repo: string, reference: string): Promise<T> {
  return JSON.parse((await client.getManifest(repo, reference)).body.toString('utf8')) as T;
}
async function blob(repo: string, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await client.getBlob(repo, digest)).stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  expect(digestOf(bytes)).toBe(digest);
  return bytes;
}

describe('pushDemoImage', () => {
  it('pushes a valid OCI index whose layers are gzip tars matching the configs', async () => {
    const pushed = await pushDemoImage({
      registry: registry.host,
      repository: 'demo/api',
      tag: '1',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      layerBytes: [200 * 1024 + 7, 100],
      seed: 'valid',
    });
    expect(pushed.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(pushed.blobs).toBe(5);

    const head = await client.headManifest('demo/api', '1');
    expect(head).toEqual({
      digest: pushed.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: expect.any(Number),
    });
    const index = await json<Index>('demo/api', pushed.digest);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);

    let bytes = 0;
    const seen = new Set<string>();
    for (const entry of index.manifests) {
      const manifest = await json<Manifest>('demo/api', entry.digest);
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
      const config = JSON.parse((await blob('demo/api', manifest.config.digest)).toString('utf8')) as Config;
      expect(config).toMatchObject({
        os: entry.platform.os,
        architecture: entry.platform.architecture,
        rootfs: { type: 'layers' },
      });
      expect(config.variant).toBe(entry.platform.variant);
      bytes += manifest.config.size;
      seen.add(manifest.config.digest);

      for (const [i, layer] of manifest.layers.entries()) {
        expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
        const packed = await blob('demo/api', layer.digest);
        expect(packed.length).toBe(layer.size);
        expect(digestOf(gunzipSync(packed))).toBe(config.rootfs.diff_ids[i]);
        // tar itself reads it: one file of the asked size.
        const file = join(scratch, `${layer.digest.slice(7)}.tar.gz`);
        writeFileSync(file, packed);
        const { stdout } = await run('tar', ['-tvzf', file]);
        const [mode, owner, size, , , name] = stdout.trim().split(/\s+/);
        expect({ mode, owner, size: Number(size) }).toEqual({
          mode: '-rw-r--r--',
          owner: 'root/root',
          size: [200 * 1024 + 7, 100][i],
        });
        expect(name).toMatch(/^demo\/.*layer-\d\.bin$/);
        if (!seen.has(layer.digest)) bytes += layer.size;
        seen.add(layer.digest);
      }
    }
    expect(seen.size).toBe(pushed.blobs);
    expect(pushed.bytes).toBe(bytes);
  });

  it('shares the first layers across platforms, as many as asked', async () => {
    const layersOf = async (repository: string, sharedLayers: number) => {
      const pushed = await pushDemoImage({
        registry: registry.host,
        repository,
        tag: '1',
        layerBytes: [1000, 2000, 3000],
        sharedLayers,
        seed: 'shared',
      });
      const index = await json<Index>(repository, pushed.digest);
      const manifests = await Promise.all(index.manifests.map((m) => json<Manifest>(repository, m.digest)));
      return { pushed, layers: manifests.map((m) => m.layers.map((l) => l.digest)) };
    };
    const two = await layersOf('demo/two-shared', 2);
    expect(two.layers[0].slice(0, 2)).toEqual(two.layers[1].slice(0, 2));
    expect(two.layers[0][2]).not.toBe(two.layers[1][2]);
    expect(two.pushed.blobs).toBe(2 + 2 + 2); // two shared layers, one own layer per platform, two configs

    const none = await layersOf('demo/none-shared', 0);
    expect(none.layers[0].filter((d) => none.layers[1].includes(d))).toEqual([]);
    expect(none.pushed.blobs).toBe(3 + 3 + 2);
  });

  it('gives the same digests for the same seed and arguments, other ones for another seed', async () => {
    const args = { registry: registry.host, tag: 'x', layerBytes: [3000], seed: 'same' };
    const first = await pushDemoImage({ ...args, repository: 'demo/first' });
    const again = await pushDemoImage({ ...args, repository: 'demo/again' });
    const other = await pushDemoImage({ ...args, repository: 'demo/other', seed: 'other' });
    expect(again).toEqual(first);
    expect(other.digest).not.toBe(first.digest);
  });

  it('refuses arguments it cannot build from', async () => {
    const base = { registry: registry.host, repository: 'demo/bad', tag: '1' };
    await expect(pushDemoImage({ ...base, platforms: ['amd64'] })).rejects.toThrow(
      new InvalidInputError('platform "amd64" is not os/architecture[/variant], e.g. linux/arm64/v8'),
    );
    await expect(pushDemoImage({ ...base, platforms: ['linux/amd64', 'linux/amd64'] })).rejects.toThrow(
      'lists one twice',
    );
    await expect(pushDemoImage({ ...base, layerBytes: [-1] })).rejects.toThrow(
      'layerBytes: each size must be a whole number of bytes',
    );
    await expect(pushDemoImage({ ...base, layerBytes: [1], sharedLayers: 2 })).rejects.toThrow(
      'sharedLayers: expected 0 to 1 (the number of layers), got 2',
    );
  });
});
