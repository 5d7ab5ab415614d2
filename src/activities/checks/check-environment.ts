import type { ReleaseRef } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';

/** What every job and command check finds in its environment, so that one suite serves every region. */
export function checkEnvironment(release: ReleaseRef, region: RegionSpec): Record<string, string> {
  return {
    MERIDIAN_ENDPOINT: region.endpoint,
    MERIDIAN_REGION: region.name,
    MERIDIAN_APP: release.app,
    MERIDIAN_VERSION: release.version,
    MERIDIAN_RELEASE: release.releaseId,
  };
}

/** The last `max` characters of a process's or pod's output, for a failure message. */
export function tailOf(text: string, max = 600): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}
