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

/** Names of environment variables that hold credentials, by the usual conventions. */
const secretName = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_?KEY|AUTH)/i;

/**
 * Masks the values of credential-looking variables of `env` in text bound for workflow history (a
 * failing check's output): a suite that prints its environment must not leak the worker's secrets.
 */
export function redactSecrets(text: string, env: Record<string, string | undefined>): string {
  let out = text;
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 4 && secretName.test(name)) out = out.split(value).join(`***${name}***`);
  }
  return out;
}
