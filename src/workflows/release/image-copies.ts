import { CancellationScope } from '@temporalio/workflow';
import { describeReplication, type RegistryStatus, type ReplicatedImage } from '../../domain/image-replication';
import type { ReleaseRef } from '../../domain/release-input';
import { replicating } from '../activity-proxies';
import { describeFailure } from '../failures';
import { imageStep } from '../timeline';
import type { ReleaseState } from './release-state';

type Copy = Promise<ReplicatedImage | { error: string }>;

/**
 * The release's image in every registry its regions pull from: one copy per registry, started when
 * asked and shared by the regions there. A copy that failed is tried again at the next region's turn.
 * Every copy runs in one cancellation scope, so none outlives the release.
 */
export class ImageCopies {
  private readonly copies = new Map<string, Copy>();
  private readonly scope = new CancellationScope();

  constructor(
    private readonly state: ReleaseState,
    private readonly release: ReleaseRef,
    private readonly timeoutMs: number,
  ) {}

  /** Starts a copy to every registry at once, so that no wave waits for one. */
  startAll(registries: Iterable<string>): void {
    this.state.status.registries = [];
    // A copy never rejects: it settles with the image or an error, which digestIn reads.
    for (const registry of new Set(registries)) void this.replicate(registry);
  }

  /** The digest a region deploys, once its registry has the image; a copy that failed before is tried once more. */
  async digestIn(registry: string): Promise<string> {
    const first = this.copies.get(registry) ?? this.replicate(registry);
    let replication = await first;
    if ('error' in replication) {
      // A copy that failed earlier (at the start, or for a region before) is tried again, once per failure.
      const newer = this.copies.get(registry);
      replication = await (newer !== first ? newer! : this.replicate(registry));
    }
    if ('error' in replication) throw new Error(`the image is not in ${registry}: ${replication.error}`);
    // Every region runs the same bits: a registry holding another digest means the tag moved mid-release.
    const expected =
      this.release.image.digest ??
      [...(this.state.status.registries ?? [])].find((r) => r.phase === 'Ready' && r.digest)?.digest;
    if (expected && replication.digest !== expected) {
      const { name, tag } = this.release.image;
      throw new Error(
        `${registry} holds ${replication.digest} for ${name}:${tag}, not ${expected}: the tag moved during the release; release the new image as a new release`,
      );
    }
    return replication.digest;
  }

  /** Cancels the copies under way (an abort does not wait for them). */
  cancel(): void {
    this.scope.cancel();
  }

  /** Cancels what is still copying and waits until every copy has stopped. */
  async settle(): Promise<void> {
    if (this.copies.size === 0) return;
    this.scope.cancel();
    await Promise.all(this.copies.values());
  }

  private replicate(registry: string): Copy {
    this.show({ registry, phase: 'Replicating' });
    const copy = this.scope
      .run(() =>
        replicating(this.timeoutMs).replicateImage.executeWithOptions(
          { summary: imageStep(this.release.image, registry) },
          [{ release: this.release, registry }],
        ),
      )
      .then(
        (done) => {
          this.show({ registry, phase: 'Ready', digest: done.digest, detail: describeReplication(done) });
          return done;
        },
        (err) => {
          const error = describeFailure(err);
          this.show({ registry, phase: 'Failed', detail: error });
          return { error };
        },
      );
    this.copies.set(registry, copy);
    return copy;
  }

  private show(entry: RegistryStatus): void {
    const registries = (this.state.status.registries ??= []);
    const i = registries.findIndex((r) => r.registry === entry.registry);
    if (i >= 0) registries[i] = entry;
    else registries.push(entry);
    this.state.showDetails();
  }
}
