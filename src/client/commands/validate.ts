import { printable } from '../cli-errors';
import type { CommandContext } from '../command';
import { requireFile } from '../options';
import { loadRelease } from '../../infra/release-files/release-file';

/** `meridian validate -f release.yaml`: every problem at once, with its path and the fix. */
export async function validateCommand(
  values: { file?: string; json?: boolean },
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  const release = loadRelease(requireFile('validate', values.file));
  const { metadata, spec } = release.spec;
  if (values.json) {
    ctx.out(
      `${JSON.stringify({ valid: true, app: metadata.app, version: metadata.version, regions: spec.regions.length, warnings: release.warnings }, null, 2)}\n`,
    );
    return 0;
  }
  ctx.out(
    `${values.file} is valid: ${metadata.app} ${metadata.version}, ${spec.regions.length} regions, ${release.checks?.checks.length ?? 0} integration checks\n`,
  );
  for (const warning of release.warnings) ctx.err(`warning: ${printable(warning)}\n`);
  return 0;
}
