import { formatDuration } from '../../domain/duration';
import type { ReleaseSpec } from '../../domain/release-spec';
import { planWarnings } from '../../domain/plan-warnings';
import { planRelease } from '../../domain/rollout-plan';
import { traitsOf } from '../../domain/trait-plan';
import { printable } from '../cli-errors';
import type { CommandContext } from '../command';
import { type OverrideValues, overridesFrom, requireFile } from '../options';
import { loadRelease, releaseTimeToSmoke } from '../../infra/release-files/release-file';

/** `meridian plan -f release.yaml`: the waves, why each region is where it is, and the bakes. */
export async function planCommand(
  values: { file?: string; json?: boolean } & OverrideValues,
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  const release = loadRelease(requireFile('plan', values.file));
  const { timeToSmoke, warnings } = releaseTimeToSmoke(release, Date.now());
  const overrides = overridesFrom(values);
  const plan = planRelease(release.spec, overrides, timeToSmoke?.ms);
  for (const warning of [...release.warnings, ...warnings, ...planWarnings(release.spec, plan, overrides)])
    ctx.err(`warning: ${printable(warning)}\n`);
  if (values.json) {
    ctx.out(`${JSON.stringify({ ...plan, timeToSmoke }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `${release.spec.metadata.app} ${release.spec.metadata.version}: ${plan.waves.length} waves, up to ${plan.maxParallel} regions at once`,
  ];
  if (timeToSmoke) lines.push(`time-to-smoke ${formatDuration(timeToSmoke.ms)}: ${timeToSmoke.derivation}`);
  const { growth, ceiling } = release.spec.spec.rollout.timeToSmoke;
  if (growth && overrides.bakeMs === undefined)
    lines.push(
      `  each production wave bakes ${Math.round(growth * 100)}% longer than the one before, up to ${formatDuration(ceiling)}`,
    );
  const { load, analysis } = release.spec.spec.validation;
  const allTraits = new Set(release.spec.spec.regions.filter((r) => r.role !== 'staging').flatMap(traitsOf)).size;
  plan.waves.forEach((wave, i) => {
    lines.push(`wave ${i + 1}: ${wave.regions.join(', ')}  (${wave.reason})`);
    if (wave.coverage)
      lines.push(
        `  traits exercised: ${wave.coverage.length}/${allTraits} (new: ${wave.newTraits?.length ? wave.newTraits.join(', ') : 'none'})`,
      );
    if (wave.staging && load) {
      lines.push(
        `  load test: ${load.rate} requests/s for ${formatDuration(overrides.loadDurationMs ?? load.duration)} replaying ${load.replay}, gated by ${describeThresholds(load.thresholds)}`,
      );
    }
    const watch =
      analysis && wave.bakeMs > 0
        ? `, measuring health every ${formatDuration(overrides.analysisIntervalMs ?? analysis.interval)}`
        : '';
    lines.push(`  then bake ${wave.bakeMs > 0 ? formatDuration(wave.bakeMs) : 'none'}${watch}`);
  });
  ctx.out(`${lines.join('\n')}\n`);
  return 0;
}

function describeThresholds(t: NonNullable<ReleaseSpec['spec']['validation']['load']>['thresholds']): string {
  const parts = [
    t.errorRate !== undefined ? `error rate <= ${(t.errorRate * 100).toFixed(2).replace(/\.?0+$/, '')}%` : undefined,
    t.p99 !== undefined ? `p99 <= ${formatDuration(t.p99)}` : undefined,
    ...Object.entries(t.regression ?? {}).map(
      ([k, v]) => `${k} at most ${Math.round(v! * 100)}% worse than the last good release`,
    ),
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no thresholds';
}
