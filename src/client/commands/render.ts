import type { CommandContext } from '../command';
import { requireFile } from '../options';
import { loadRelease } from '../../infra/release-files/release-file';
import { manifestsYaml, regionNamed, renderRegion } from '../render-region';

// Commands that only need the helm binary import it from here.
export { helmPath } from '../render-region';

/** `meridian render -f release.yaml --region X`: the manifests Meridian would apply in that region. */
export async function renderCommand(
  values: { file?: string; region?: string },
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  const release = loadRelease(requireFile('render', values.file));
  const region = regionNamed(release, values.region, '--region');
  ctx.out(manifestsYaml(await renderRegion(release, region, ctx.env)));
  return 0;
}
