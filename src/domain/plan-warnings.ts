import { formatDuration } from './duration';
import type { ReleaseOverrides } from './release-input';
import type { ReleaseSpec } from './release-spec';
import type { RolloutPlan } from './rollout-plan';

/**
 * What a plan will do that its author probably did not mean: bakes too short for their analysis to
 * ever pass. Shown by `plan` and `start`; nothing is refused, since an operator may accept such bakes.
 */
export function planWarnings(spec: ReleaseSpec, plan: RolloutPlan, overrides: ReleaseOverrides): string[] {
  const analysis = spec.spec.validation.analysis;
  if (!analysis) return [];
  const interval = overrides.analysisIntervalMs ?? analysis.interval;
  // Measurements come at the start of the bake and every interval after it.
  const needed = (analysis.minSamples - 1) * interval;
  return plan.waves.flatMap((wave, i) =>
    wave.bakeMs > 0 && wave.bakeMs <= needed
      ? [
          `wave ${i + 1} (${listed(wave.regions)}): a bake of ${formatDuration(wave.bakeMs)} fits fewer than minSamples ${analysis.minSamples} measurements ` +
            `${formatDuration(interval)} apart, so its analysis can only end inconclusive: bake longer or measure more often`,
        ]
      : [],
  );
}

/** Regions a warning names: the first few, then how many more (a wave may hold hundreds). */
function listed(regions: readonly string[], most = 10): string {
  return regions.length > most
    ? `${regions.slice(0, most).join(', ')} and ${regions.length - most} more`
    : regions.join(', ');
}
