import { formatDuration, maxDurationMs, maxTimerMs } from './duration';
import type { TrafficSpec } from './traffic-spec';
import { quoteExcerpt } from './excerpt';
import type { IntegrationSuite } from './integration-checks';
import type { AnalysisSpec, RegionSpec, ReleaseSpec } from './release-spec';
import type { RolloutPlan } from './rollout-plan';
import type { TimeToSmoke } from './time-to-smoke';

/**
 * What the workflows receive. Everything a release needs travels here, so that a worker anywhere can
 * run it; nothing secret does (credentials come from the worker's environment).
 */

/** The template files of a release, packed so that they travel in the workflow input. */
export interface TemplateBundle {
  /** How to render it. */
  kind: 'helm' | 'manifests';
  /** Helm release name. */
  releaseName: string;
  /** The files, as base64 of gzipped JSON `{ "relative/path": "content" }`. */
  files: string;
  /** sha256 of the unpacked files, to tell templates apart. */
  sha256: string;
}

/** Overrides given at start, e.g. short bakes for a demo. */
export interface ReleaseOverrides {
  /** Bake after each production wave, instead of the time-to-smoke. */
  bakeMs?: number;
  /** Canary soak, instead of spec.rollout.canarySoak. */
  canarySoakMs?: number;
  /** Load test duration, instead of spec.validation.load.duration. */
  loadDurationMs?: number;
  /** Time between bake measurements, instead of spec.validation.analysis.interval. */
  analysisIntervalMs?: number;
}

/** Recorded traffic, packed so that it travels in the workflow input of staging regions only. */
export interface PackedTraffic {
  /** The file it was read from, as the spec names it. */
  source: string;
  /** How many requests it holds. */
  requests: number;
  /** The requests, as base64 of gzipped JSON. */
  packed: string;
}

/** The load test a staging region runs. */
export interface LoadTestInput {
  spec: NonNullable<ReleaseSpec['spec']['validation']['load']>;
  traffic: PackedTraffic;
  durationMs: number;
}

export interface ReleaseInput {
  /** Workflow id of the release, derived from app and version. */
  releaseId: string;
  spec: ReleaseSpec;
  /** Identifies the spec and its files: a second start with another hash is refused. */
  specHash: string;
  template: TemplateBundle;
  checks?: IntegrationSuite;
  /** The recorded traffic of spec.validation.load, when the spec asks for a load test. */
  traffic?: PackedTraffic;
  overrides: ReleaseOverrides;
  /**
   * The plan `meridian plan` showed, computed at start (waves: auto orders regions by their traits).
   * Absent for releases started before it travelled here: they follow the spec-order plan they began with.
   */
  plan?: RolloutPlan;
  /** The bake between waves computed from incident history at start, and how (absent: the floor). */
  timeToSmoke?: TimeToSmoke;
  /** Digest of the image in the source registry when the release started, as `start` found it. */
  imageDigest?: string;
  /** Who started it (user@host by default). */
  requestedBy: string;
}

/** Identity of the release a region belongs to. */
export interface ReleaseRef {
  releaseId: string;
  app: string;
  version: string;
  /** The spec's image; `digest` once the region's registry holds it (regions deploy by digest). */
  image: ReleaseSpec['spec']['image'] & { digest?: string };
}

export interface RegionInput {
  release: ReleaseRef;
  region: RegionSpec;
  /** 1-based wave the region belongs to. */
  wave: number;
  template: TemplateBundle;
  /** Values shared by every region (spec.template.values). */
  values: Record<string, unknown>;
  checks?: IntegrationSuite;
  bakeMs: number;
  onFailure: ReleaseSpec['spec']['rollout']['onFailure'];
  /** 1 for the first try; a retry after a halt adds one. */
  attempt: number;
  /** The load test, for staging regions of a spec that asks for one. */
  load?: LoadTestInput;
  /** Health analysis while the region bakes. */
  analysis?: AnalysisSpec;
  /** Prometheus that load tests and analysis query. */
  prometheusUrl?: string;
  /**
   * The spec's traffic section, for a region behind its hostname: the release drains, ramps and
   * restores the region's share of the DNS answers. It names where the worker finds the DNS API's
   * key, never the key.
   */
  steering?: TrafficSpec;
}

/** A Kubernetes object by identity. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/**
 * What is wrong with a release workflow's input, one problem a line with its field, or none. The CLI
 * validates what it sends; this is the workflow's own check for input that did not come through it
 * (the temporal CLI, another client, a bug): every duration it waits, bakes, soaks or times out by must
 * be a finite number of milliseconds in bounds. A duration too long for a number (hundreds of digits)
 * becomes Infinity, which JSON sends as null: a null bake would be no bake at all.
 */
export function releaseInputProblems(input: unknown): string[] {
  if (!isRecord(input))
    return [`input: expected the release input object that meridian start sends, got ${describeValue(input)}`];
  const problems: string[] = [];
  const duration = (path: string, value: unknown, max = maxDurationMs, optional = true) => {
    const problem = durationProblem(value, max, optional);
    if (problem) problems.push(`${path}: ${problem}`);
  };
  if (typeof input.releaseId !== 'string' || input.releaseId === '')
    problems.push(`releaseId: expected the release id, got ${describeValue(input.releaseId)}`);

  const overrides = input.overrides;
  if (overrides !== undefined && !isRecord(overrides))
    problems.push(`overrides: expected an object, got ${describeValue(overrides)}`);
  if (isRecord(overrides)) {
    duration('overrides.bakeMs', overrides.bakeMs);
    duration('overrides.canarySoakMs', overrides.canarySoakMs);
    duration('overrides.loadDurationMs', overrides.loadDurationMs, maxTimerMs);
    duration('overrides.analysisIntervalMs', overrides.analysisIntervalMs);
  }
  if (input.timeToSmoke !== undefined) {
    if (!isRecord(input.timeToSmoke))
      problems.push(`timeToSmoke: expected { ms, method, derivation }, got ${describeValue(input.timeToSmoke)}`);
    else duration('timeToSmoke.ms', input.timeToSmoke.ms, maxDurationMs, false);
  }

  const spec = isRecord(input.spec) ? input.spec : undefined;
  const body = spec && isRecord(spec.spec) ? spec.spec : undefined;
  if (
    !spec ||
    !isRecord(spec.metadata) ||
    typeof spec.metadata.app !== 'string' ||
    typeof spec.metadata.version !== 'string' ||
    !body
  ) {
    problems.push(
      `spec: expected a validated release spec (metadata.app, metadata.version, spec), got ${describeValue(input.spec)}`,
    );
    return problems;
  }
  const regions = Array.isArray(body.regions) ? body.regions : undefined;
  const names = new Set(
    (regions ?? []).map((r) => (isRecord(r) ? r.name : undefined)).filter((n): n is string => typeof n === 'string'),
  );
  if (!regions || regions.length === 0 || names.size !== regions.length)
    problems.push('spec.spec.regions: expected a list of regions, each with its own name');

  const rollout = isRecord(body.rollout) ? body.rollout : undefined;
  if (!rollout) problems.push(`spec.spec.rollout: expected the rollout settings, got ${describeValue(body.rollout)}`);
  else {
    duration('spec.spec.rollout.canarySoak', rollout.canarySoak, maxDurationMs, false);
    const tts = isRecord(rollout.timeToSmoke) ? rollout.timeToSmoke : undefined;
    if (!tts)
      problems.push(
        `spec.spec.rollout.timeToSmoke: expected { floor, ceiling, ... }, got ${describeValue(rollout.timeToSmoke)}`,
      );
    else {
      duration('spec.spec.rollout.timeToSmoke.floor', tts.floor, maxDurationMs, false);
      duration('spec.spec.rollout.timeToSmoke.ceiling', tts.ceiling, maxDurationMs, false);
      if (
        tts.growth !== undefined &&
        !(typeof tts.growth === 'number' && Number.isFinite(tts.growth) && tts.growth >= 0 && tts.growth <= 10)
      ) {
        problems.push(
          `spec.spec.rollout.timeToSmoke.growth: expected a share from 0 to 1000%, got ${describeValue(tts.growth)}`,
        );
      }
    }
    if (!isCount(rollout.maxParallel, 1000))
      problems.push(
        `spec.spec.rollout.maxParallel: expected a whole number from 1 to 1000, got ${describeValue(rollout.maxParallel)}`,
      );
    if (Array.isArray(rollout.waves)) {
      rollout.waves.forEach((wave, i) => {
        if (isRecord(wave)) duration(`spec.spec.rollout.waves[${i}].bake`, wave.bake);
      });
    }
  }

  const image = isRecord(body.image) ? body.image : undefined;
  if (image && isRecord(image.replication))
    duration('spec.spec.image.replication.timeout', image.replication.timeout, maxTimerMs);
  const validation = isRecord(body.validation) ? body.validation : {};
  if (validation.load !== undefined) {
    const load = isRecord(validation.load) ? validation.load : {};
    duration('spec.spec.validation.load.duration', load.duration, maxTimerMs, false);
  }
  if (validation.analysis !== undefined) {
    const analysis = isRecord(validation.analysis) ? validation.analysis : {};
    duration('spec.spec.validation.analysis.interval', analysis.interval, maxDurationMs, false);
    if (analysis.interval === 0) problems.push('spec.spec.validation.analysis.interval: expected 1s or more, got 0');
  }
  if (input.checks !== undefined) {
    const checks = isRecord(input.checks) && Array.isArray(input.checks.checks) ? input.checks.checks : undefined;
    if (!checks)
      problems.push(`checks: expected the integration suite { checks: [...] }, got ${describeValue(input.checks)}`);
    checks?.forEach((check, i) => {
      if (!isRecord(check)) return problems.push(`checks.checks[${i}]: expected a check, got ${describeValue(check)}`);
      if (check.kind === 'job' || check.kind === 'command')
        duration(`checks.checks[${i}].timeout`, check.timeout, maxTimerMs, false);
      if (isRecord(check.expect))
        duration(`checks.checks[${i}].expect.maxLatency`, check.expect.maxLatency, maxTimerMs);
    });
  }

  if (input.plan !== undefined) {
    const plan = isRecord(input.plan) ? input.plan : undefined;
    const waves = plan && Array.isArray(plan.waves) ? plan.waves : undefined;
    if (!plan || !waves || waves.length === 0)
      problems.push(
        `plan: expected the plan meridian plan shows ({ waves, maxParallel }), got ${describeValue(input.plan)}`,
      );
    else {
      if (!isCount(plan.maxParallel, 1000))
        problems.push(
          `plan.maxParallel: expected a whole number from 1 to 1000, got ${describeValue(plan.maxParallel)}`,
        );
      waves.forEach((wave, i) => {
        if (!isRecord(wave))
          return problems.push(`plan.waves[${i}]: expected { regions, bakeMs }, got ${describeValue(wave)}`);
        duration(`plan.waves[${i}].bakeMs`, wave.bakeMs, maxDurationMs, false);
        const listed: unknown[] | undefined = Array.isArray(wave.regions) ? wave.regions : undefined;
        const unknown = listed?.filter((n) => typeof n !== 'string' || !names.has(n));
        if (!listed || !unknown || listed.length === 0)
          problems.push(
            `plan.waves[${i}].regions: expected the names of the wave's regions, got ${describeValue(wave.regions)}`,
          );
        else if (unknown.length > 0)
          problems.push(
            `plan.waves[${i}].regions: ${unknown.map((n) => describeValue(n)).join(', ')} not in spec.spec.regions`,
          );
      });
    }
  }
  return problems;
}

/** What is wrong with a region workflow's input (the durations it waits and times out by), or none. */
export function regionInputProblems(input: unknown): string[] {
  if (!isRecord(input))
    return [`input: expected the region input object the release workflow sends, got ${describeValue(input)}`];
  const problems: string[] = [];
  const duration = (path: string, value: unknown, max = maxDurationMs, optional = true) => {
    const problem = durationProblem(value, max, optional);
    if (problem) problems.push(`${path}: ${problem}`);
  };
  if (!isRecord(input.release) || !isRecord(input.region) || typeof input.region.name !== 'string') {
    problems.push('release, region: expected the release and the region spec');
  }
  duration('bakeMs', input.bakeMs, maxDurationMs, false);
  if (!isCount(input.attempt, Number.MAX_SAFE_INTEGER))
    problems.push(`attempt: expected a whole number from 1, got ${describeValue(input.attempt)}`);
  if (!isCount(input.wave, Number.MAX_SAFE_INTEGER))
    problems.push(`wave: expected a whole number from 1, got ${describeValue(input.wave)}`);
  if (input.load !== undefined)
    duration('load.durationMs', isRecord(input.load) ? input.load.durationMs : input.load, maxTimerMs, false);
  if (input.analysis !== undefined) {
    const interval = isRecord(input.analysis) ? input.analysis.interval : input.analysis;
    duration('analysis.interval', interval, maxDurationMs, false);
    if (interval === 0) problems.push('analysis.interval: expected 1s or more, got 0');
  }
  if (input.steering !== undefined) problems.push(...steeringProblems(input.steering));
  if (input.checks !== undefined) {
    const checks = isRecord(input.checks) && Array.isArray(input.checks.checks) ? input.checks.checks : [];
    checks.forEach((check, i) => {
      if (isRecord(check) && (check.kind === 'job' || check.kind === 'command'))
        duration(`checks.checks[${i}].timeout`, check.timeout, maxTimerMs, false);
    });
  }
  return problems;
}

/** The numbers of a traffic section the region workflow waits by or writes: a TTL, and ramp shares. */
function steeringProblems(steering: unknown): string[] {
  if (!isRecord(steering) || typeof steering.hostname !== 'string' || !isRecord(steering.regions))
    return [`steering: expected the spec's traffic section, got ${describeValue(steering)}`];
  const problems: string[] = [];
  const ttl = durationProblem(steering.ttl, 24 * 3_600_000, false);
  if (ttl) problems.push(`steering.ttl: ${ttl}`);
  const ramp = steering.ramp;
  if (
    !Array.isArray(ramp) ||
    ramp.length === 0 ||
    ramp.length > 10 ||
    ramp.some((s) => typeof s !== 'number' || !Number.isFinite(s) || s <= 0 || s > 1)
  )
    problems.push(`steering.ramp: expected 1 to 10 shares above 0 and at most 1, got ${describeValue(ramp)}`);
  if (steering.duringDeploy !== 'keep' && steering.duringDeploy !== 'drain')
    problems.push(`steering.duringDeploy: expected keep or drain, got ${describeValue(steering.duringDeploy)}`);
  if (steering.onRollback !== 'keep' && steering.onRollback !== 'drain')
    problems.push(`steering.onRollback: expected keep or drain, got ${describeValue(steering.onRollback)}`);
  return problems;
}

/** Why `value` is not a duration in milliseconds from 0 to `max`, or undefined when it is one (or absent and optional). */
function durationProblem(value: unknown, max: number, optional: boolean): string | undefined {
  if (value === undefined && optional) return undefined;
  const expected = `expected a duration in milliseconds from 0 to ${formatDuration(max)}`;
  if (value === null)
    return `${expected}, got null (a duration too long to count, such as one of hundreds of digits, is Infinity, which JSON sends as null)`;
  if (typeof value !== 'number') return `${expected}, got ${describeValue(value)}`;
  if (!Number.isFinite(value) || value < 0 || value > max) return `${expected}, got ${describeValue(value)}`;
  return undefined;
}

function isCount(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as an error quotes it: strings as excerpts, numbers as they are, anything else by its type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return quoteExcerpt(value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}
