import { quoteExcerpt } from '../../domain/excerpt';
import { regionSchema } from '../../domain/release-spec';
import { addRegionUpdate, moveRegionUpdate, retryRegionUpdate, skipRegionUpdate } from '../../workflows/definitions';
import { UsageError } from '../cli-errors';
import type { Command, CommandContext } from '../command';
import { requireFile } from '../options';
import { loadRelease } from '../../infra/release-files/release-file';
import { sendReleaseUpdate } from '../release-update';
import { operatorName } from '../temporal';

type Amendment = 'skip' | 'retry' | 'move' | 'add-region';

/** The options of an amendment (`--to-wave` is move's, `-f` and `--wave` add-region's; commander refuses them elsewhere). */
export interface AmendOptions {
  reason?: string;
  toWave?: number;
  wave?: number;
  file?: string;
  json?: boolean;
}

/**
 * Amending a release in flight. Each names the region and gives a reason; the release checks the
 * change against its state and its plan's rules and answers with its status, or why not:
 *   meridian skip <id> <region> --reason TEXT
 *   meridian retry <id> <region> --reason TEXT
 *   meridian move <id> <region> --to-wave N --reason TEXT
 *   meridian add-region <id> <region> -f release.yaml [--wave N] --reason TEXT
 */
export function amendCommand(action: Amendment): Command<AmendOptions> {
  return async (values: AmendOptions, [releaseId, regionArgument]: string[], ctx: CommandContext) => {
    const region = regionName(regionArgument);
    if (!values.reason?.trim())
      throw new UsageError('--reason: say why; every amendment is recorded with who asked and why');
    const base = { by: operatorName(ctx.env), reason: values.reason, region };
    switch (action) {
      case 'skip':
        return sendReleaseUpdate(ctx, action, releaseId, skipRegionUpdate, base, values.json);
      case 'retry':
        return sendReleaseUpdate(ctx, action, releaseId, retryRegionUpdate, base, values.json);
      case 'move': {
        if (values.toWave === undefined) throw new UsageError(`--to-wave: give the later wave to move ${region} to`);
        return sendReleaseUpdate(
          ctx,
          action,
          releaseId,
          moveRegionUpdate,
          { ...base, toWave: values.toWave },
          values.json,
        );
      }
      case 'add-region': {
        // The region comes from the spec file, validated like any spec: the same definition a new release would use.
        const file = requireFile(action, values.file);
        const release = loadRelease(file);
        const spec = release.spec.spec.regions.find((r) => r.name === region);
        if (!spec) {
          const names = release.spec.spec.regions.map((r) => r.name).join(', ');
          throw new UsageError(
            `${file}: no region ${region} in spec.regions (it has ${names}): add it to the file first`,
          );
        }
        return sendReleaseUpdate(
          ctx,
          action,
          releaseId,
          addRegionUpdate,
          { ...base, region: spec, ...(values.wave ? { wave: values.wave } : {}) },
          values.json,
        );
      }
    }
  };
}

/** The <region> argument, held to the spec's rule for region names (regionSchema's name). */
function regionName(text: string): string {
  const checked = regionSchema.shape.name.safeParse(text);
  if (!checked.success)
    throw new UsageError(
      `<region>: ${checked.error.issues[0]?.message ?? 'not a region name'}, got ${quoteExcerpt(text)}`,
    );
  return checked.data;
}
