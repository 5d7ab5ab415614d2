import { formatDuration } from '../../domain/duration';
import { planRelease } from '../../domain/rollout-plan';
import { parseCommandArgs } from '../args';
import type { CommandContext } from '../command';
import { overrideOptions, overridesFrom, requireFile } from '../options';
import { loadRelease, releaseTimeToSmoke } from '../release-file';

/** `meridian plan -f release.yaml`: the waves, why each region is where it is, and the bakes. */
export async function planCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('plan', argv, { file: { type: 'string', short: 'f' }, json: { type: 'boolean' }, ...overrideOptions }, '-f release.yaml [--json] [--bake D] [--canary-soak D]');
  const release = loadRelease(requireFile('plan', values.file));
  const { timeToSmoke, warnings } = releaseTimeToSmoke(release, Date.now());
  for (const warning of warnings) ctx.err(`warning: ${warning}\n`);
  const plan = planRelease(release.spec, overridesFrom(values), timeToSmoke?.ms);
  if (values.json) {
    ctx.out(`${JSON.stringify({ ...plan, timeToSmoke }, null, 2)}\n`);
    return 0;
  }
  const lines = [`${release.spec.metadata.app} ${release.spec.metadata.version}: ${plan.waves.length} waves, up to ${plan.maxParallel} regions at once`];
  if (timeToSmoke) lines.push(`time-to-smoke ${formatDuration(timeToSmoke.ms)}: ${timeToSmoke.derivation}`);
  plan.waves.forEach((wave, i) => {
    lines.push(`wave ${i + 1}: ${wave.regions.join(', ')}  (${wave.reason})`);
    lines.push(`  then bake ${wave.bakeMs > 0 ? formatDuration(wave.bakeMs) : 'none'}`);
  });
  ctx.out(`${lines.join('\n')}\n`);
  return 0;
}
