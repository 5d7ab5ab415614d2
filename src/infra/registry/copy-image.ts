import { Semaphore } from 'async-mutex';
import { InvalidInputError } from '../../domain/errors';
import { forEachAdmitted, forEachConcurrently } from './bounded-concurrency';
import { formatImageRef, type ImageRef, manifestReference } from './image-reference';
import type { Descriptor } from './manifest-documents';
import { isIndexMediaType } from './media-types';
import { readImageTree } from './read-image-tree';
import type { CredentialLookup } from './registry-auth';
import { RegistryClient, RegistryError } from './registry-client';
import { sharedBlobReads, type SharedBlobReads } from './shared-blob-reads';

/**
 * Copying an image from one registry to another over the distribution API, the way `skopeo copy
 * --all` does: every platform, manifests byte for byte (so the digest a release deploys is the same in
 * every region), each blob checked as it streams through. Blobs the target has are skipped, so a copy
 * that was cut off resumes where it stopped; blobs in another repository of the same registry are
 * mounted rather than sent. Copies of one image to several registries at once, in one process, read
 * each source blob once (shared-blob-reads.ts).
 *
 * Order: largest blob first, so the longest transfer is not left to the end, and so that concurrent
 * copies of one image ask the source for the same blob at about the same time (which lets them share
 * its download).
 */

/** How far a copy has got, for heartbeats. */
export interface CopyProgress {
  /** Blobs dealt with (copied, mounted or found already there). */
  blobsDone: number;
  /** Blobs the image has, each counted once. */
  blobsTotal: number;
  /** Bytes streamed to the target so far, counting blobs still in flight. */
  bytesCopied: number;
}

/** What a copy did. */
export interface CopyResult {
  /** Digest of the manifest (or index) now under the target tag: the source's. */
  digest: string;
  mediaType: string;
  /** Platforms as `os/arch[/variant]`. */
  platforms: string[];
  blobs: {
    /** Blobs streamed from source to target. */
    copied: number;
    /** Blobs the target already had. */
    skipped: number;
    /** Blobs linked from the source repository within the same registry. */
    mounted: number;
    /** Bytes streamed. */
    bytesCopied: number;
  };
}

export interface CopyImageOptions {
  /** The image to copy, by tag or digest. */
  source: ImageRef;
  /** Where to put it: registry, repository and tag (a digest, if given, must be the source's). */
  target: ImageRef;
  credentials?: CredentialLookup;
  /** Stops the copy; what was copied stays, and the next copy skips it. */
  signal?: AbortSignal;
  onProgress?: (progress: CopyProgress) => void;
  /** Told the size of each blob as it lands in the target (not of blobs skipped or mounted), e.g. to count copied bytes. */
  onBlobCopied?: (bytes: number) => void;
  /** Blobs moved at once. Default 4. */
  concurrency?: number;
  /** Where source downloads are shared with other copies. Default: the process's own. */
  sharedReads?: SharedBlobReads;
}

/** Progress while a blob streams is reported at most once per this many bytes. */
const PROGRESS_EVERY_BYTES = 4 * 1024 * 1024;
/**
 * Blob lookups (HEAD) sent to the target at once: small requests, so more than the blobs moved, and
 * enough that an image's new blobs (an update's top layers: small, so last in line) are not looked up
 * only after every blob it shares with the previous version.
 */
const LOOKUP_CONCURRENCY = 16;

/** Ids of credential lookups, so that downloads are shared only between copies with the same one. */
const lookupIds = new WeakMap<CredentialLookup, number>();
let lastLookupId = 0;
function lookupId(lookup: CredentialLookup | undefined): number {
  if (!lookup) return 0;
  let id = lookupIds.get(lookup);
  if (id === undefined) lookupIds.set(lookup, (id = ++lastLookupId));
  return id;
}

/** Copies an image (all platforms); see the module comment. */
export async function copyImage(options: CopyImageOptions): Promise<CopyResult> {
  const { source, target, credentials, signal, onProgress, onBlobCopied } = options;
  const reads = options.sharedReads ?? sharedBlobReads;
  if (target.tag === undefined && target.digest === undefined) {
    throw new InvalidInputError(
      `copy target ${formatImageRef(target)} has no tag: give the tag to push the image under`,
    );
  }
  const from = new RegistryClient(source.registry, { credentials });
  const sameRegistry = target.registry === source.registry;
  const to = sameRegistry ? from : new RegistryClient(target.registry, { credentials });

  // What the target has under the reference is asked while the source's tree is read (one round trip
  // less); a source that fails is still reported first.
  const looking = to.headManifest(target.repository, target.tag ?? target.digest!, signal);
  void looking.catch(() => undefined); // awaited below unless the source failed
  const tree = await readImageTree(from, source.repository, manifestReference(source), signal);
  const { root } = tree;
  if (target.digest !== undefined && target.digest !== root.digest) {
    throw new InvalidInputError(
      `copy target ${formatImageRef(target)} names digest ${target.digest}, but the source ${formatImageRef(source)} is ${root.digest}`,
    );
  }
  const targetReference = target.tag ?? root.digest;
  const result = (blobs: CopyResult['blobs']): CopyResult => ({
    digest: root.digest,
    mediaType: root.mediaType,
    platforms: tree.platforms,
    blobs,
  });

  const blobsTotal = tree.blobs.length;
  const present = await looking;
  if (present?.digest === root.digest) {
    onProgress?.({ blobsDone: blobsTotal, blobsTotal, bytesCopied: 0 });
    return result({ copied: 0, skipped: blobsTotal, mounted: 0, bytesCopied: 0 });
  }

  const counts = { copied: 0, skipped: 0, mounted: 0, bytesCopied: 0 };
  let streaming = 0; // bytes of blobs still in flight
  let blobsDone = 0;
  const report = () => onProgress?.({ blobsDone, blobsTotal, bytesCopied: counts.bytesCopied + streaming });

  const copyBlob = async (blob: Descriptor): Promise<'copied' | 'mounted'> => {
    if (
      sameRegistry &&
      source.repository !== target.repository &&
      (await to.mountBlob(target.repository, blob.digest, source.repository, signal))
    ) {
      return 'mounted';
    }
    let sent = 0;
    let reported = 0;
    // Not awaited: the target's upload session opens while the download starts.
    const download = reads.read({
      key: `${source.registry}/${source.repository}@${blob.digest} ${blob.size} ${lookupId(credentials)}`,
      digest: blob.digest,
      size: blob.size,
      start: async (shared) => (await from.getBlob(source.repository, blob.digest, shared)).stream,
      signal,
      onBytes: (bytes) => {
        sent += bytes;
        streaming += bytes;
        if (sent - reported >= PROGRESS_EVERY_BYTES) {
          reported = sent;
          report();
        }
      },
    });
    try {
      await to.uploadBlob(target.repository, blob.digest, blob.size, download, signal);
    } finally {
      streaming -= sent;
    }
    counts.bytesCopied += blob.size;
    onBlobCopied?.(blob.size); // as each blob lands: a copy cut short still counts what arrived
    return 'copied';
  };

  // Largest first, each looked up in the target before it is sent: a retried copy skips what an
  // earlier attempt got there. Lookups run ahead, LOOKUP_CONCURRENCY at a time; transfers follow in
  // the same order, `concurrency` at a time, so that copies of one image to several registries move
  // the same blobs at the same time. Once the target is found to hold some of the image (an update,
  // a resumed copy), a blob it lacks no longer waits for the lookups of the blobs before it (those are
  // likely there: an update's new layers are its smallest, so last) when a transfer slot is free.
  const ordered = [...tree.blobs].sort((x, y) => y.size - x.size || (x.digest < y.digest ? -1 : 1));
  let failed = false;
  const lookups = new Semaphore(LOOKUP_CONCURRENCY);
  const has = ordered.map((blob) =>
    lookups.runExclusive(async () => {
      if (failed) throw new Error('the copy stopped before this blob was looked up');
      return to.hasBlob(target.repository, blob.digest, signal);
    }),
  );
  try {
    await forEachAdmitted(
      ordered,
      options.concurrency ?? 4,
      async (_blob, i) => {
        if (!(await has[i])) return true;
        counts.skipped += 1;
        blobsDone += 1;
        report();
        return false;
      },
      async (blob) => {
        counts[await copyBlob(blob)] += 1;
        blobsDone += 1;
        report();
      },
      () => counts.skipped === 0,
    );
  } catch (err) {
    failed = true; // lookups not yet sent are not sent
    throw err;
  }

  // Platform manifests first, by digest: the registry refuses an index whose manifests it lacks. Image
  // manifests go at once; a nested index waits for everything listed before it.
  const pending: Promise<string>[] = [];
  for (const child of tree.children) {
    if (isIndexMediaType(child.mediaType)) await Promise.all(pending.splice(0));
    pending.push(to.putManifest(target.repository, child.digest, child.mediaType, child.body, signal));
    if (isIndexMediaType(child.mediaType)) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await to.putManifest(target.repository, targetReference, root.mediaType, root.body, signal);

  const landed = await to.headManifest(target.repository, targetReference, signal);
  if (landed?.digest !== root.digest) {
    throw new RegistryError(
      `after copying ${formatImageRef(source)} (${root.digest}) to ${formatImageRef(target)}, the target has ${landed ? landed.digest : 'no manifest'} there: ` +
        'something else pushed to that tag meanwhile, or the registry rewrote the manifest; check who pushes to it',
      { registry: target.registry, retryable: false },
    );
  }
  return result(counts);
}

/** Whether a registry has a whole image, and what it is. */
export interface ImagePresence {
  /** The manifest is there (with the expected digest, when one was given) and so is everything it refers to. */
  present: boolean;
  /** The digest found under the reference, even when it is not the expected one. */
  digest?: string;
  /** Media type of the manifest found, when present. */
  mediaType?: string;
  /** Platforms of the image found (`os/arch[/variant]`), when present. */
  platforms?: string[];
}

/**
 * Whether the image is in the registry in full: its manifest (with `expectedDigest`, or the reference's
 * digest, when given), every manifest an index lists, and every blob. For waiting on a registry that
 * replicates by itself, where the manifest may arrive before its layers.
 */
export async function verifyImage(options: {
  ref: ImageRef;
  expectedDigest?: string;
  credentials?: CredentialLookup;
  signal?: AbortSignal;
}): Promise<ImagePresence> {
  const { ref, signal } = options;
  const client = new RegistryClient(ref.registry, { credentials: options.credentials });
  const head = await client.headManifest(ref.repository, manifestReference(ref), signal);
  if (!head) return { present: false };
  const expected = options.expectedDigest ?? ref.digest;
  if (expected !== undefined && head.digest !== expected) return { present: false, digest: head.digest };
  try {
    const tree = await readImageTree(client, ref.repository, head.digest, signal);
    let complete = true;
    await forEachConcurrently(tree.blobs, 4, async (blob) => {
      if (complete && !(await client.hasBlob(ref.repository, blob.digest, signal))) complete = false;
    });
    if (!complete) return { present: false, digest: head.digest };
    return { present: true, digest: head.digest, mediaType: tree.root.mediaType, platforms: tree.platforms };
  } catch (err) {
    // A manifest or config listed but not (yet) there: the image is incomplete, not broken.
    if (err instanceof RegistryError && err.status === 404) return { present: false, digest: head.digest };
    throw err;
  }
}
