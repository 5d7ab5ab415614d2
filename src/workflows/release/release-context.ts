import type { RegionInput, ReleaseInput, ReleaseRef } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';
import { planRelease, type RolloutPlan, stagingWavesOf } from '../../domain/rollout-plan';
import { releaseMetrics } from '../release-metrics';

/** What a release was started with, and what follows from it once: the plan, the image, the regions by name. */
export interface ReleaseContext {
  readonly input: ReleaseInput;
  readonly spec: ReleaseInput['spec'];
  readonly rollout: ReleaseInput['spec']['spec']['rollout'];
  readonly plan: RolloutPlan;
  /** The release as every activity and region sees it: ids, and the image by digest when `start` resolved one. */
  readonly releaseRef: ReleaseRef;
  /** The spec's regions, and those an operator added in flight. */
  readonly regionsByName: Map<string, RegionSpec>;
  /** The plan as amended in flight (skip, retry, add, move): the status shows it as it stands. */
  readonly waves: { regions: string[]; bakeMs: number }[];
  /** Staging waves in front of production: gates count production waves only. */
  readonly stagingWaves: number;
  readonly firstWaveIsCanary: boolean;
  readonly metrics: ReturnType<typeof releaseMetrics>;
}

export function releaseContext(input: ReleaseInput): ReleaseContext {
  const { spec } = input;
  const plan = input.plan ?? planRelease(spec, input.overrides, input.timeToSmoke?.ms, 'spec-order');
  // The digest `start` resolved in the source, when it could: every copy is of exactly that image.
  const image: ReleaseRef['image'] = input.imageDigest
    ? { ...spec.spec.image, digest: input.imageDigest }
    : spec.spec.image;
  const regionsByName = new Map(spec.spec.regions.map((r) => [r.name, r]));
  const stagingWaves = stagingWavesOf(plan);
  return {
    input,
    spec,
    rollout: spec.spec.rollout,
    plan,
    releaseRef: { releaseId: input.releaseId, app: spec.metadata.app, version: spec.metadata.version, image },
    regionsByName,
    waves: plan.waves.map((w) => ({ regions: [...w.regions], bakeMs: w.bakeMs })),
    stagingWaves,
    firstWaveIsCanary: plan.waves[stagingWaves].regions.every((name) => regionsByName.get(name)?.canary),
    metrics: releaseMetrics(),
  };
}

/** The gates an operator must approve before wave `index` (0-based) starts. */
export function gatesBefore(index: number, approvals: readonly string[], firstWaveIsCanary: boolean): string[] {
  return approvals.filter((gate) =>
    gate === 'after-canary' ? firstWaveIsCanary && index === 1 : gate === `after-wave-${index}`,
  );
}

/** The spec's traffic section, for a region behind its hostname (regions not listed keep their traffic as it is). */
export function steeringFor(ctx: ReleaseContext, name: string): RegionInput['steering'] {
  const traffic = ctx.spec.spec.traffic;
  return traffic && Object.hasOwn(traffic.regions, name) ? traffic : undefined;
}

/** The load test a region runs: staging regions, when the spec asks for one. */
export function loadFor(ctx: ReleaseContext, name: string): RegionInput['load'] {
  const load = ctx.spec.spec.validation.load;
  if (!load || !ctx.input.traffic || ctx.regionsByName.get(name)?.role !== 'staging') return undefined;
  return { spec: load, traffic: ctx.input.traffic, durationMs: ctx.input.overrides.loadDurationMs ?? load.duration };
}

/** The bake analysis every region runs, at the interval an override asks for. */
export function analysisFor(ctx: ReleaseContext): RegionInput['analysis'] {
  const analysis = ctx.spec.spec.validation.analysis;
  const interval = ctx.input.overrides.analysisIntervalMs;
  return analysis && interval !== undefined ? { ...analysis, interval } : analysis;
}
