import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { renderManifests } from '../infra/render/render-manifests';
import { InvalidInputError } from '../domain/errors';
import type { RegionSpec } from '../domain/release-spec';
import { findTool } from '../rig/toolchain';
import { type LoadedRelease, packReleaseTemplate, releaseIdOf } from '../infra/release-files/release-file';

/** helm: MERIDIAN_HELM, the toolchain cache, or PATH. */
export function helmPath(env: NodeJS.ProcessEnv): string {
  return env.MERIDIAN_HELM ?? findTool('helm', env) ?? 'helm';
}

/** The region of the spec that `option` names; anything else is an error listing the regions there are. */
export function regionNamed(release: LoadedRelease, name: string | undefined, option: string): RegionSpec {
  const regions = release.spec.spec.regions;
  const region = regions.find((r) => r.name === name);
  if (!region) {
    throw new InvalidInputError(
      `${option}: ${name ? `no region "${name}"` : 'missing'}; use one of ${regions.map((r) => r.name).join(', ')}`,
    );
  }
  return region;
}

/**
 * One region's manifests, rendered on this machine as the worker renders them for a deploy. The image
 * is named by tag unless `digest` is given (a release deploys the source's digest, known once it runs).
 */
export async function renderRegion(
  release: LoadedRelease,
  region: RegionSpec,
  env: NodeJS.ProcessEnv,
  digest?: string,
): Promise<KubernetesObject[]> {
  const { spec } = release;
  const image = digest ? { ...spec.spec.image, digest } : spec.spec.image;
  const { objects } = await renderManifests(helmPath(env), {
    release: { releaseId: releaseIdOf(spec), app: spec.metadata.app, version: spec.metadata.version, image },
    region,
    template: packReleaseTemplate(release),
    values: spec.spec.template.values,
  });
  return objects;
}

/** Manifests as `meridian render` prints them: one YAML document each. */
export function manifestsYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join('');
}
