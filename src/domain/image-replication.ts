/**
 * Getting the release's image into every region's registry: what the release records per registry. The
 * image travels by digest: the digest of the source's manifest (an index for multi-platform images) is
 * what every region deploys, so every region runs the same bits.
 */

/** What one registry's replication did. */
export interface ReplicatedImage {
  registry: string;
  /** Digest of the manifest (or index) now in the registry, equal to the source's. */
  digest: string;
  mediaType: string;
  /** Platforms of a multi-platform image (os/arch[/variant]); one entry for a single-platform image. */
  platforms: string[];
  /** copy: Meridian copied it; geo-replicated: the registry did; source: the region pulls from the source registry. */
  how: 'copied' | 'geo-replicated' | 'source';
  blobs: { copied: number; skipped: number; mounted: number; bytesCopied: number };
  elapsedMs: number;
}

/** One registry as the release status shows it. */
export interface RegistryStatus {
  registry: string;
  phase: 'Replicating' | 'Ready' | 'Failed';
  digest?: string;
  /** What was done (blobs copied, skipped, mounted) or why it failed. */
  detail?: string;
}

/** A replication in a few words: `copied 3 of 5 blobs (1.2 MB), 2 already there, 2 platforms`. */
export function describeReplication(r: ReplicatedImage): string {
  const platforms = `${r.platforms.length} platform${r.platforms.length === 1 ? '' : 's'}`;
  if (r.how !== 'copied')
    return `${r.how === 'source' ? 'the source registry itself' : 'geo-replicated'}: verified ${r.digest.slice(0, 19)}, ${platforms}`;
  const total = r.blobs.copied + r.blobs.skipped + r.blobs.mounted;
  const mounted = r.blobs.mounted ? `, ${r.blobs.mounted} mounted` : '';
  return `copied ${r.blobs.copied} of ${total} blobs (${formatBytes(r.blobs.bytesCopied)}), ${r.blobs.skipped} already there${mounted}, ${platforms}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
