import { ApplicationFailure } from '@temporalio/common';
import type { ReplicatedImage } from '../../domain/image-replication';
import type { ReleaseRef } from '../../domain/release-input';
import { copyImage, type CopyProgress, verifyImage } from './copy-image';
import type { ImageRef } from './image-reference';
import type { CredentialLookup } from './registry-auth';
import { RegistryError } from './registry-client';

export interface ReplicateDeps {
  credentials?: CredentialLookup;
  /** Cancellation of the activity (a worker shutting down, a release aborted). */
  signal?: AbortSignal;
  /** Heartbeats progress, so that a lost worker is noticed and the copy resumes elsewhere. */
  heartbeat: (progress: CopyProgress | { waitingForReplication: string }) => void;
  /** Told the size of each blob copied into the registry as it lands (copy mode only). */
  onBlobCopied?: (bytes: number) => void;
  /** How long to wait for a geo-replicated registry between looks. */
  pollMs?: number;
}

/**
 * Makes sure the release's image is in one registry, by digest. `copy` copies it from the source over
 * the OCI distribution API (every platform, blobs already there skipped); `geo-replicated`, and a
 * registry that is the source itself, only wait until the source's digest is there. A missing source
 * image fails at once; an unreachable registry is retried by the activity's retry policy.
 */
export async function replicateImage(
  input: { release: ReleaseRef; registry: string },
  deps: ReplicateDeps,
): Promise<ReplicatedImage> {
  const started = Date.now();
  const { image } = input.release;
  // By digest when the release knows it: a tag pushed again mid-release does not change what is copied.
  const source: ImageRef = {
    registry: image.source,
    repository: image.name,
    tag: image.tag,
    ...(image.digest ? { digest: image.digest } : {}),
  };
  const target: ImageRef = { registry: input.registry, repository: image.name, tag: image.tag };
  const mode = image.replication?.mode ?? 'copy';
  try {
    if (mode === 'copy' && input.registry !== image.source) {
      const copied = await copyImage({
        source,
        target,
        credentials: deps.credentials,
        signal: deps.signal,
        onProgress: deps.heartbeat,
        onBlobCopied: deps.onBlobCopied,
      });
      return {
        registry: input.registry,
        digest: copied.digest,
        mediaType: copied.mediaType,
        platforms: copied.platforms,
        how: 'copied',
        blobs: copied.blobs,
        elapsedMs: Date.now() - started,
      };
    }
    const expected = await verifyImage({ ref: source, credentials: deps.credentials });
    if (!expected.present || !expected.digest) throw missing(source);
    const deadline = started + (image.replication?.timeout ?? 10 * 60_000);
    for (;;) {
      const found = await verifyImage({ ref: { ...target, digest: expected.digest }, credentials: deps.credentials });
      if (found.present) {
        return {
          registry: input.registry,
          digest: expected.digest,
          mediaType: found.mediaType ?? '',
          platforms: found.platforms ?? [],
          how: input.registry === image.source ? 'source' : 'geo-replicated',
          blobs: { copied: 0, skipped: 0, mounted: 0, bytesCopied: 0 },
          elapsedMs: Date.now() - started,
        };
      }
      if (Date.now() >= deadline) {
        throw ApplicationFailure.nonRetryable(
          `${input.registry} did not have ${image.name}@${expected.digest} within ${Math.round((deadline - started) / 1000)}s of replication.timeout: ` +
            'check the registry replication, or raise spec.image.replication.timeout',
          'ImageNotReplicated',
        );
      }
      deps.heartbeat({ waitingForReplication: input.registry });
      await new Promise((r) => setTimeout(r, Math.min(deps.pollMs ?? 2_000, Math.max(0, deadline - Date.now()))));
      if (deps.signal?.aborted) throw deps.signal.reason ?? new Error('cancelled');
    }
  } catch (err) {
    // A registry that answered no (missing image, refused credentials) will answer the same way again.
    if (err instanceof RegistryError && !err.retryable)
      throw ApplicationFailure.nonRetryable(err.message, 'ImageUnavailable');
    throw err;
  }
}

function missing(ref: ImageRef): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `no image ${ref.repository}:${ref.tag} in ${ref.registry}: push it there first, or check spec.image (name, tag, source)`,
    'ImageUnavailable',
  );
}
