import { forEachConcurrently } from './bounded-concurrency';
import { digestAlgorithm, digestOf } from './content-digest';
import { type Descriptor, formatPlatform, type ManifestDocument, readManifest } from './manifest-documents';
import { isForeignLayer } from './media-types';
import { type ManifestContent, type RegistryClient, RegistryError } from './registry-client';

/**
 * Everything an image consists of, read from one registry: the manifest (or index) under a tag or
 * digest, every manifest it lists, and the set of blobs they refer to. Copy reads it from the source
 * to know what to move; verify reads it from a target to know whether all of it arrived.
 */

/** An image, down to its blobs. */
export interface ImageTree {
  /** The manifest or index the reference names, with its exact bytes. */
  root: ManifestContent;
  /** The manifests the root lists (at any depth), each before any index that lists it: the order to push them. */
  children: ManifestContent[];
  /** Configs and layers, each once however many manifests share it; foreign layers left out. */
  blobs: Descriptor[];
  /** Platforms as `os/arch[/variant]`: an index's entries, or a single image's config. */
  platforms: string[];
}

/** Manifests of an index are fetched this many at a time. */
const MANIFEST_CONCURRENCY = 4;
/** An image config bigger than this is not read for its platform. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads an image's tree; a manifest that is missing or unreadable is a RegistryError naming it. */
export async function readImageTree(
  client: RegistryClient,
  repo: string,
  reference: string,
  signal?: AbortSignal,
): Promise<ImageTree> {
  const root = await client.getManifest(repo, reference, signal);
  const children: ManifestContent[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>([root.digest]);

  const walk = async (content: ManifestContent): Promise<ManifestDocument> => {
    const document = read(client, repo, content);
    if (document.kind === 'image') {
      for (const blob of [document.config, ...document.layers]) {
        if (!isForeignLayer(blob.mediaType) && !blobs.has(blob.digest)) blobs.set(blob.digest, blob);
      }
      return document;
    }
    const listed = document.manifests.filter((m) => !seen.has(m.digest));
    listed.forEach((m) => seen.add(m.digest));
    const fetched: ManifestContent[] = new Array(listed.length);
    await forEachConcurrently(listed, MANIFEST_CONCURRENCY, async (m, i) => {
      fetched[i] = await client.getManifest(repo, m.digest, signal);
    });
    for (const child of fetched) {
      await walk(child);
      children.push(child);
    }
    return document;
  };

  const document = await walk(root);
  const platforms =
    document.kind === 'index'
      ? document.manifests.flatMap((m) =>
          m.platform && m.platform.os !== 'unknown' ? [formatPlatform(m.platform)] : [],
        )
      : await configPlatform(client, repo, document.config, signal);
  return { root, children, blobs: [...blobs.values()], platforms };
}

function read(client: RegistryClient, repo: string, content: ManifestContent): ManifestDocument {
  try {
    return readManifest(content.body, content.mediaType);
  } catch (err) {
    throw new RegistryError(
      `manifest ${repo}@${content.digest} in ${client.registry} cannot be copied: ${(err as Error).message}`,
      {
        registry: client.registry,
        retryable: false,
      },
    );
  }
}

/** The platform a single image's config states (none for configs that are not image configs). */
async function configPlatform(
  client: RegistryClient,
  repo: string,
  config: Descriptor,
  signal?: AbortSignal,
): Promise<string[]> {
  if (config.size > MAX_CONFIG_BYTES) return [];
  const download = await client.getBlob(repo, config.digest, signal);
  const chunks: Buffer[] = [];
  for await (const chunk of download.stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (digestOf(bytes, digestAlgorithm(config.digest)) !== config.digest) {
    throw new RegistryError(
      `config ${config.digest} of ${repo} in ${client.registry} has other bytes than its digest says: push the image again`,
      {
        registry: client.registry,
        retryable: false,
      },
    );
  }
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { os?: unknown; architecture?: unknown; variant?: unknown };
    if (typeof json.os !== 'string' || typeof json.architecture !== 'string') return [];
    return [
      formatPlatform({
        os: json.os,
        architecture: json.architecture,
        variant: typeof json.variant === 'string' ? json.variant : undefined,
      }),
    ];
  } catch {
    return [];
  }
}
