import { stringify } from 'yaml';
import { renderManifests } from '../../activities/render/render-manifests';
import { InvalidInputError } from '../../domain/errors';
import { findTool } from '../../rig/toolchain';
import { parseCommandArgs } from '../args';
import type { CommandContext } from '../command';
import { requireFile } from '../options';
import { loadRelease, packReleaseTemplate, releaseIdOf } from '../release-file';

/** `meridian render -f release.yaml --region X`: the manifests Meridian would apply in that region. */
export async function renderCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('render', argv, { file: { type: 'string', short: 'f' }, region: { type: 'string' } }, '-f release.yaml --region NAME');
  const release = loadRelease(requireFile('render', values.file));
  const names = release.spec.spec.regions.map((r) => r.name);
  const region = release.spec.spec.regions.find((r) => r.name === values.region);
  if (!region) {
    throw new InvalidInputError(`--region: ${values.region ? `no region "${values.region}"` : 'missing'}; use one of ${names.join(', ')}`);
  }
  const { spec } = release;
  const { objects } = await renderManifests(helmPath(ctx.env), {
    release: { releaseId: releaseIdOf(spec), app: spec.metadata.app, version: spec.metadata.version, image: spec.spec.image },
    region,
    template: packReleaseTemplate(release),
    values: spec.spec.template.values,
  });
  ctx.out(objects.map((o) => `---\n${stringify(o)}`).join(''));
  return 0;
}

/** helm: MERIDIAN_HELM, the toolchain cache, or PATH. */
export function helmPath(env: NodeJS.ProcessEnv): string {
  return env.MERIDIAN_HELM ?? findTool('helm', env) ?? 'helm';
}
