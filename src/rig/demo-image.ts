import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { digestOf } from '../infra/registry/content-digest';
import { formatPlatform, parsePlatform, type Platform } from '../infra/registry/manifest-documents';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST } from '../infra/registry/media-types';
import type { CredentialLookup } from '../infra/registry/registry-auth';
import { RegistryClient } from '../infra/registry/registry-client';
import { InvalidInputError } from '../domain/errors';

/**
 * A synthetic multi-platform image for the rig, tests and benchmarks: real OCI content (gzip'd tar
 * layers, image configs whose diff_ids match, manifests, an index) with pseudo-random files made from a
 * seed, so the same arguments always give the same digests. Layers are generated as streams, twice
 * (once to learn their digests, once to upload them), so a 200 MB image never sits in memory.
 */

export interface DemoImageOptions {
  /** Registry host[:port] to push to. */
  registry: string;
  repository: string;
  tag: string;
  /** Platforms as os/arch[/variant]. Default linux/amd64 and linux/arm64. */
  platforms?: string[];
  /** Size in bytes of each layer's file, per platform, base layer first. Default a few KiB. */
  layerBytes?: number[];
  /** How many of the first layers are the same on every platform. Default 1. */
  sharedLayers?: number;
  /** What the content is made from: the same seed and arguments give the same digests. */
  seed?: string;
  /** Credentials for a registry that wants a login. */
  credentials?: CredentialLookup;
}

/** What was pushed. */
export interface PushedDemoImage {
  /** Digest of the index now under the tag. */
  digest: string;
  platforms: string[];
  /** Distinct blobs (configs and layers) the image has. */
  blobs: number;
  /** Their total size in bytes. */
  bytes: number;
}

const DEFAULT_PLATFORMS = ['linux/amd64', 'linux/arm64'];
const DEFAULT_LAYER_BYTES = [4096, 2048];
/** A ustar header stores sizes in 11 octal digits. */
const MAX_LAYER_BYTES = 8 ** 11 - 1;
/** Fixed timestamps keep configs, and so digests, the same from run to run. */
const CREATED = '2026-01-01T00:00:00Z';
const TAR_BLOCK = 512;
const CHUNK = 64 * 1024;

/** One layer to generate: its file's name, size and the key of its pseudo-random bytes. */
interface LayerPlan {
  fileName: string;
  contentBytes: number;
  key: Buffer;
}

/** A layer with its digests, known after a first pass over it. */
interface MeasuredLayer extends LayerPlan {
  /** Digest of the gzip'd tar: the blob. */
  digest: string;
  size: number;
  /** Digest of the uncompressed tar: the config's diff_id. */
  diffId: string;
}

/** Builds the image and pushes what the registry lacks; returns the index's digest. */
export async function pushDemoImage(options: DemoImageOptions): Promise<PushedDemoImage> {
  const platforms = (options.platforms ?? DEFAULT_PLATFORMS).map(parsePlatform);
  const names = platforms.map(formatPlatform);
  if (platforms.length === 0) throw new InvalidInputError('platforms: give at least one, e.g. linux/amd64');
  if (new Set(names).size !== names.length)
    throw new InvalidInputError(`platforms: ${names.join(', ')} lists one twice`);
  const layerBytes = options.layerBytes ?? DEFAULT_LAYER_BYTES;
  if (layerBytes.some((n) => !Number.isInteger(n) || n < 0 || n > MAX_LAYER_BYTES)) {
    throw new InvalidInputError(`layerBytes: each size must be a whole number of bytes from 0 to ${MAX_LAYER_BYTES}`);
  }
  const sharedLayers = options.sharedLayers ?? Math.min(1, layerBytes.length);
  if (!Number.isInteger(sharedLayers) || sharedLayers < 0 || sharedLayers > layerBytes.length) {
    throw new InvalidInputError(
      `sharedLayers: expected 0 to ${layerBytes.length} (the number of layers), got ${sharedLayers}`,
    );
  }
  const seed = options.seed ?? 'meridian-demo';
  const client = new RegistryClient(options.registry, { credentials: options.credentials });
  const repo = options.repository;

  const measured = new Map<string, MeasuredLayer>();
  const blobs = new Map<string, { size: number; upload: () => Readable }>();
  const entries: { platform: Platform; manifest: Buffer }[] = [];
  for (const platform of platforms) {
    const layers: MeasuredLayer[] = [];
    for (const [index, contentBytes] of layerBytes.entries()) {
      const shared = index < sharedLayers;
      const plan: LayerPlan = {
        fileName: shared
          ? `demo/layer-${index}.bin`
          : `demo/${formatPlatform(platform).replace(/\//g, '-')}/layer-${index}.bin`,
        contentBytes,
        key: createHash('sha256')
          .update(JSON.stringify([seed, shared ? 'shared' : formatPlatform(platform), index, contentBytes]))
          .digest(),
      };
      const id = plan.key.toString('hex');
      const layer = measured.get(id) ?? (await measureLayer(plan));
      measured.set(id, layer);
      blobs.set(layer.digest, { size: layer.size, upload: () => layerBlob(layer) });
      layers.push(layer);
    }
    const config = json(imageConfig(platform, layers));
    blobs.set(digestOf(config), { size: config.length, upload: () => Readable.from([config]) });
    const manifest = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: l.digest, size: l.size })),
    });
    entries.push({ platform, manifest });
  }

  for (const [digest, blob] of blobs) {
    if (!(await client.hasBlob(repo, digest))) await client.uploadBlob(repo, digest, blob.size, blob.upload());
  }
  for (const { manifest } of entries) await client.putManifest(repo, digestOf(manifest), OCI_MANIFEST, manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: entries.map(({ platform, manifest }) => ({
      mediaType: OCI_MANIFEST,
      digest: digestOf(manifest),
      size: manifest.length,
      platform,
    })),
  });
  const digest = await client.putManifest(repo, options.tag, OCI_INDEX, index);
  return {
    digest,
    platforms: names,
    blobs: blobs.size,
    bytes: [...blobs.values()].reduce((sum, b) => sum + b.size, 0),
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** An OCI image config; rootfs.diff_ids are the digests of the uncompressed layers, as runtimes check. */
function imageConfig(platform: Platform, layers: readonly MeasuredLayer[]) {
  return {
    created: CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined && { variant: platform.variant }),
    config: { Labels: { 'org.opencontainers.image.title': 'meridian demo image' } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({
      created: CREATED,
      created_by: `meridian demo: ${l.fileName} (${l.contentBytes} bytes)`,
    })),
  };
}

/** First pass over a layer: its blob's digest and size, and its uncompressed digest. */
async function measureLayer(plan: LayerPlan): Promise<MeasuredLayer> {
  const raw = createHash('sha256');
  const packed = createHash('sha256');
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      packed.update(chunk);
      size += chunk.length;
      done();
    },
  });
  await pipeline(Readable.from(hashing(layerTar(plan), raw), { objectMode: false }), gzip(), sink);
  return { ...plan, digest: `sha256:${packed.digest('hex')}`, size, diffId: `sha256:${raw.digest('hex')}` };
}

/** The layer's blob (gzip'd tar), generated again from its plan. */
function layerBlob(plan: LayerPlan): Readable {
  const packed = gzip();
  pipeline(Readable.from(layerTar(plan), { objectMode: false }), packed).catch((err: unknown) =>
    packed.destroy(err as Error),
  );
  return packed;
}

/**
 * Level 0 (stored): the content is random, so compressing gains nothing, and stored blocks keep the
 * bytes, and so the digests, the same across zlib versions.
 */
function gzip() {
  return createGzip({ level: 0 });
}

async function* hashing(source: AsyncIterable<Buffer> | Iterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

/** A tar with one file of pseudo-random bytes (AES-256-CTR of zeros under the plan's key). */
function* layerTar(plan: LayerPlan): Generator<Buffer> {
  yield tarHeader(plan.fileName, plan.contentBytes);
  const cipher = createCipheriv('aes-256-ctr', plan.key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = plan.contentBytes; left > 0; left -= CHUNK)
    yield cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
  const padding = (TAR_BLOCK - (plan.contentBytes % TAR_BLOCK)) % TAR_BLOCK;
  // The file's last block padded with zeros, then the two zero blocks that end an archive.
  yield Buffer.alloc(padding + 2 * TAR_BLOCK);
}

/** A ustar header for a regular file owned by root, mode 0644, dated 1970. */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(TAR_BLOCK);
  const put = (offset: number, length: number, text: string) => header.write(text, offset, length, 'ascii');
  const octal = (value: number, digits: number) => value.toString(8).padStart(digits, '0');
  put(0, 100, name);
  put(100, 8, `${octal(0o644, 7)}\0`);
  put(108, 8, `${octal(0, 7)}\0`);
  put(116, 8, `${octal(0, 7)}\0`);
  put(124, 12, `${octal(size, 11)}\0`);
  put(136, 12, `${octal(0, 11)}\0`);
  put(148, 8, ' '.repeat(8)); // the checksum counts its own field as spaces
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  put(148, 8, `${octal(checksum, 6)}\0 `);
  return header;
}
