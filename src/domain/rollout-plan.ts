import type { ReleaseSpec } from './release-spec';
import { planByTraits, traitsOf } from './trait-plan';

/** One wave of the plan: regions deployed together, then a bake before the next wave. */
export interface PlannedWave {
  /** Region names, in the order they start. */
  regions: string[];
  /** How long to bake (wait and watch) after the wave before the next one. */
  bakeMs: number;
  /** Why these regions go here, in words. */
  reason: string;
  /** A staging wave: synthetic regions proven before any production region. */
  staging?: boolean;
  /** Traits (waves: auto by traits) this wave exercises first. */
  newTraits?: string[];
  /** Traits exercised once this wave is done, counting every wave before it. */
  coverage?: string[];
}

export interface RolloutPlan {
  waves: PlannedWave[];
  /** Most regions of one wave deployed at once. */
  maxParallel: number;
}

export interface PlanOptions {
  /** How `waves: auto` orders production regions: by their traits, or in spec order (releases started before the trait planner). */
  planner?: 'traits' | 'spec-order';
  /** Bake after each production wave (from time-to-smoke). */
  bakeMs: number;
  /** Replaces the canary soak, e.g. for a demo with short bakes. */
  canarySoakMs?: number;
}

/**
 * The order in which regions are released. Staging regions always go first, in a wave of their own.
 * Explicit waves from the spec are kept as written; `auto` puts the canary regions first, then the
 * other regions in spec order, in waves of maxParallel.
 * Pure: the workflow calls it, so the same spec always gives the same plan.
 */
export function buildRolloutPlan(spec: ReleaseSpec, options: PlanOptions): RolloutPlan {
  const production = buildProductionPlan(spec, options);
  const staging = spec.spec.regions.filter((r) => r.role === 'staging').map((r) => r.name);
  if (staging.length === 0) return production;
  const wave: PlannedWave = {
    regions: staging,
    bakeMs: 0,
    reason: 'staging first: integration checks and the load test must pass before any production region',
    staging: true,
  };
  return { ...production, waves: [wave, ...production.waves] };
}

/** How many staging waves open a plan (0 or 1): gates such as after-wave-N count the waves after them. */
export function stagingWavesOf(plan: RolloutPlan): number {
  return plan.waves[0]?.staging ? 1 : 0;
}

function buildProductionPlan(spec: ReleaseSpec, options: PlanOptions): RolloutPlan {
  const { rollout } = spec.spec;
  const regions = spec.spec.regions.filter((r) => r.role !== 'staging');
  const canarySoakMs = options.canarySoakMs ?? rollout.canarySoak;
  const canaries = new Set(regions.filter((r) => r.canary).map((r) => r.name));
  const bakeFor = (names: string[]) => (names.every((n) => canaries.has(n)) ? canarySoakMs : options.bakeMs);

  if (rollout.waves !== 'auto') {
    const waves = rollout.waves.map((wave, i) => {
      const names = Array.isArray(wave) ? wave : wave.regions;
      const explicitBake = Array.isArray(wave) ? undefined : wave.bake;
      const last = i === rollout.waves.length - 1;
      return {
        regions: [...names],
        bakeMs: explicitBake ?? (last ? 0 : bakeFor(names)),
        reason: `wave ${i + 1} as listed in spec.rollout.waves`,
      };
    });
    return { waves, maxParallel: rollout.maxParallel };
  }

  const waves: PlannedWave[] = [{ regions: [...canaries], bakeMs: canarySoakMs, reason: 'canary first' }];
  if (options.planner === 'traits') {
    const byTraits = planByTraits({
      canaries: regions.filter((r) => canaries.has(r.name)),
      regions: regions.filter((r) => !canaries.has(r.name)),
      maxParallel: rollout.maxParallel,
    });
    const covered = new Set(regions.filter((r) => canaries.has(r.name)).flatMap(traitsOf));
    waves[0] = { ...waves[0], newTraits: [...covered].sort(), coverage: [...covered].sort() };
    for (const w of byTraits) {
      w.newTraits.forEach((t) => covered.add(t));
      waves.push({
        regions: w.regions,
        bakeMs: options.bakeMs,
        reason: w.reason,
        newTraits: w.newTraits,
        coverage: [...covered].sort(),
      });
    }
    waves[waves.length - 1] = { ...waves[waves.length - 1], bakeMs: 0 };
    return { waves, maxParallel: rollout.maxParallel };
  }
  const rest = regions.filter((r) => !canaries.has(r.name)).map((r) => r.name);
  for (let i = 0; i < rest.length; i += rollout.maxParallel) {
    waves.push({
      regions: rest.slice(i, i + rollout.maxParallel),
      bakeMs: options.bakeMs,
      reason: 'in spec order, up to maxParallel at once',
    });
  }
  // No bake after the last wave: nothing waits for it.
  waves[waves.length - 1] = { ...waves[waves.length - 1], bakeMs: 0 };
  return { waves, maxParallel: rollout.maxParallel };
}

/**
 * The plan a release runs: the one the workflow follows and `meridian plan` shows. The bake is, in
 * order: an override, the time-to-smoke computed from incident history, the time-to-smoke floor.
 */
export function planRelease(
  spec: ReleaseSpec,
  overrides: { bakeMs?: number; canarySoakMs?: number },
  timeToSmokeMs?: number,
  planner: PlanOptions['planner'] = 'traits',
): RolloutPlan {
  const plan = buildRolloutPlan(spec, {
    bakeMs: overrides.bakeMs ?? timeToSmokeMs ?? spec.spec.rollout.timeToSmoke.floor,
    canarySoakMs: overrides.canarySoakMs,
    planner,
  });
  const { growth, ceiling } = spec.spec.rollout.timeToSmoke;
  // Growth applies to bakes from time-to-smoke; a --bake override is taken as given.
  return growth && overrides.bakeMs === undefined ? growBakes(plan, spec, growth, ceiling) : plan;
}

/** Each production wave's bake `growth` longer than the one before, capped at `ceiling`; explicit bakes, the canary soak and the last wave stay. */
function growBakes(plan: RolloutPlan, spec: ReleaseSpec, growth: number, ceiling: number): RolloutPlan {
  const canaries = new Set(spec.spec.regions.filter((r) => r.canary).map((r) => r.name));
  const explicit = spec.spec.rollout.waves === 'auto' ? [] : spec.spec.rollout.waves;
  let k = 0;
  const waves = plan.waves.map((wave, i) => {
    const canaryOnly = wave.regions.every((n) => canaries.has(n));
    if (wave.staging || canaryOnly || wave.bakeMs === 0) return wave;
    const written = explicit.find((w) => !Array.isArray(w) && w.regions[0] === wave.regions[0]);
    if (written && !Array.isArray(written) && written.bake !== undefined) return wave;
    // Whole minutes (whole seconds for bakes under a minute): a plan people read.
    const unit = wave.bakeMs >= 60_000 ? 60_000 : 1_000;
    const bakeMs = Math.min(ceiling, Math.round((wave.bakeMs * (1 + growth) ** k++) / unit) * unit);
    return i === plan.waves.length - 1 ? wave : { ...wave, bakeMs };
  });
  return { ...plan, waves };
}
