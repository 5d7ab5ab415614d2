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
