import { addRegionUpdate, moveRegionUpdate, retryRegionUpdate, skipRegionUpdate } from '../../workflows/definitions';
import { parseCommandArgs } from '../args';
import { UsageError } from '../cli-errors';
import type { Command, CommandContext } from '../command';
import { requireFile } from '../options';
import { loadRelease } from '../../infra/release-files/release-file';
import { sendReleaseUpdate } from '../release-update';
import { operatorName } from '../temporal';

/**
 * Amending a release in flight. Each names the region and gives a reason; the release checks the
 * change against its state and its plan's rules and answers with its status, or why not:
 *   meridian skip <id> <region> --reason TEXT
 *   meridian retry <id> <region> --reason TEXT
 *   meridian move <id> <region> --to-wave N --reason TEXT
 *   meridian add-region <id> <region> -f release.yaml [--wave N] --reason TEXT
 */
const usages = {
  skip: '<release-id> <region> --reason TEXT',
  retry: '<release-id> <region> --reason TEXT',
  move: '<release-id> <region> --to-wave N --reason TEXT',
  'add-region': '<release-id> <region> -f release.yaml [--wave N] --reason TEXT',
} as const;
type Amendment = keyof typeof usages;

const options = {
  reason: { type: 'string' },
  'to-wave': { type: 'string' },
  wave: { type: 'string' },
  file: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
} as const;

export function amendCommand(action: Amendment): Command {
  return async (argv: string[], ctx: CommandContext) => {
    const usage = `\n  usage: meridian ${action} ${usages[action]}`;
    const { values, positionals } = parseCommandArgs(action, argv, options, usages[action]);
    if (positionals.length !== 2) throw new UsageError(`expected a release id and a region${usage}`);
    const [releaseId, region] = positionals;
    if (!values.reason?.trim()) throw new UsageError(`--reason: say why; every amendment is recorded with who asked and why${usage}`);
    for (const [name, allowed] of [['to-wave', 'move'], ['wave', 'add-region'], ['file', 'add-region']] as const) {
      if (values[name] !== undefined && action !== allowed) throw new UsageError(`--${name}: only ${allowed} takes it${usage}`);
    }
    const base = { by: operatorName(ctx.env), reason: values.reason, region };
    switch (action) {
      case 'skip':
        return sendReleaseUpdate(ctx, action, releaseId, skipRegionUpdate, base, values.json);
      case 'retry':
        return sendReleaseUpdate(ctx, action, releaseId, retryRegionUpdate, base, values.json);
      case 'move': {
        if (values['to-wave'] === undefined) throw new UsageError(`--to-wave: give the later wave to move ${region} to${usage}`);
        const toWave = waveNumber('to-wave', values['to-wave'], usage);
        return sendReleaseUpdate(ctx, action, releaseId, moveRegionUpdate, { ...base, toWave }, values.json);
      }
      case 'add-region': {
        // The region comes from the spec file, validated like any spec: the same definition a new release would use.
        const release = loadRelease(requireFile(action, values.file));
        const spec = release.spec.spec.regions.find((r) => r.name === region);
        if (!spec) {
          const names = release.spec.spec.regions.map((r) => r.name).join(', ');
          throw new UsageError(`${values.file}: no region ${region} in spec.regions (it has ${names}): add it to the file first${usage}`);
        }
        const wave = values.wave === undefined ? undefined : waveNumber('wave', values.wave, usage);
        return sendReleaseUpdate(ctx, action, releaseId, addRegionUpdate, { ...base, region: spec, ...(wave ? { wave } : {}) }, values.json);
      }
    }
  };
}

function waveNumber(option: string, text: string, usage: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`--${option}: expected a wave number from 1, got ${JSON.stringify(text)}${usage}`);
  return Number(text);
}
