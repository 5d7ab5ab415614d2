import { ApplicationFailure } from '@temporalio/common';
import type { MeridianActivities } from '../../src/activities/region-activities';
import { packTraffic } from '../../src/infra/load/packed-traffic';
import { regionImage } from '../../src/infra/render/render-manifests';
import { loadRelease } from '../../src/infra/release-files/release-file';
import type { ReleaseInput } from '../../src/domain/release-input';
import type { ReleaseSpec } from '../../src/domain/release-spec';
import type { RegionTraffic } from '../../src/domain/traffic-policy';
import { resolve } from 'node:path';
import { addMeasurement } from '../../src/domain/bake-analysis';
import type { LoadBaseline, LoadFigures } from '../../src/domain/load-report';

/** How the fake world behaves for one release. */
export interface FakeBehaviour {
  /** Regions whose integration checks fail, and how many times (Infinity: always). */
  failChecks?: Record<string, number>;
  /** Regions whose rollout fails with ProgressDeadlineExceeded. */
  failRollout?: string[];
  /** Real time each deploy takes, to observe parallelism. */
  deployMs?: number;
  /** What the load test measures, per region (default: good figures). */
  load?: Record<string, Partial<LoadFigures>>;
  /** The baseline findLoadBaseline finds (default: none). */
  baseline?: LoadBaseline;
  /** Regions whose bake analysis fails (a failing measurement) or runs out of data (inconclusive). */
  bake?: Record<string, 'failed' | 'inconclusive'>;
  /** Registries that do not answer: every copy attempt fails as a connection refused would (retryable). */
  downRegistries?: string[];
  /** Real time each rollback takes. */
  rollbackMs?: number;
  /** Registries that hold another digest than the others (as if the tag moved mid-release). */
  movedTag?: string[];
  /** Regions whose previous version does not roll out again after a rollback. */
  failRestore?: string[];
  /** Real time each image copy takes. */
  imageMs?: number;
  /** Registries the image never reaches (replication fails), and how many times (Infinity: always). */
  failImage?: Record<string, number>;
  /** Requests a region serves during its bake (default 1000). */
  bakeRequests?: Record<string, number>;
  /** The DNS API does not answer: every traffic step fails as a refused connection would (retryable). */
  dnsDown?: boolean;
  /** Regions' traffic states before the release (default: never written, in service), as an earlier release left them. */
  trafficBefore?: Record<string, RegionTraffic>;
}

/** One traffic step a release took: a region's new share of its hostname's answers, and why. */
export interface FakeTrafficStep {
  region: string;
  share: number;
  reason: string;
  /** Who the step is recorded as (the release, or whoever an earlier state it put back names). */
  by: string;
  /** Workflow time of the step, as the release recorded it. */
  at: string;
}

/** The digest the fake registries hold for every image. */
export const fakeDigest = `sha256:${'ab'.repeat(32)}`;

/** Load-test figures of a healthy service. */
export const goodLoad: LoadFigures = {
  requests: 6000,
  throughputRps: 200,
  targetRps: 200,
  errorRate: 0,
  latencyMs: { p50: 4, p90: 8, p99: 20, max: 40 },
  statuses: { '2xx': 6000 },
  transportErrors: 0,
  durationMs: 30_000,
};

export interface FakeCall {
  releaseId: string;
  activity: keyof MeridianActivities;
  region: string;
}

/**
 * Activities that fake the edges (clusters, endpoints) for workflow tests on the time-skipping
 * server; the real ones are proven against the local rig by the end-to-end suite.
 */
export function fakeActivities() {
  const behaviours = new Map<string, FakeBehaviour>();
  const calls: FakeCall[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const checkFailuresLeft = new Map<string, number>();
  /** Regions rolled back since their last deploy (release/region). */
  const restored = new Set<string>();

  const note = (releaseId: string, activity: keyof MeridianActivities, region: string) =>
    calls.push({ releaseId, activity, region });

  const imageFailuresLeft = new Map<string, number>();
  const trafficSteps = new Map<string, FakeTrafficStep[]>();
  const dnsDown = (releaseId: string) => {
    if (behaviours.get(releaseId)?.dnsDown)
      throw new Error(
        'PowerDNS API at http://127.0.0.1:8281 did not answer PATCH /api/v1/servers/localhost/zones/example.test. (ECONNREFUSED)',
      );
  };
  const activities: MeridianActivities = {
    async steerRegion({ region, share, note: why, release }) {
      const releaseId = release ?? why.release ?? '';
      note(releaseId, 'steerRegion', region);
      dnsDown(releaseId);
      const steps = trafficSteps.get(releaseId) ?? [];
      const state = (share: number, note: typeof why): RegionTraffic => ({
        mode: share >= 1 ? 'in' : share <= 0 ? 'drained' : 'ramp',
        share,
        ...note,
      });
      const last = steps.filter((s) => s.region === region).at(-1);
      const previous = last
        ? state(last.share, { by: last.by, reason: last.reason, at: last.at, release: releaseId })
        : behaviours.get(releaseId)?.trafficBefore?.[region];
      steps.push({ region, share, reason: why.reason, by: why.by, at: why.at });
      trafficSteps.set(releaseId, steps);
      return { ...state(share, why), ...(previous ? { previous } : {}) };
    },
    async prepareSteering({ region, release }) {
      note(release, 'prepareSteering', region);
      dnsDown(release);
    },
    async replicateImage({ release, registry }) {
      note(release.releaseId, 'replicateImage', registry);
      if (behaviours.get(release.releaseId)?.downRegistries?.includes(registry)) {
        throw new Error(
          `registry ${registry} did not answer (connect ECONNREFUSED ${registry}): is it running and reachable from the worker?`,
        );
      }
      const ms = behaviours.get(release.releaseId)?.imageMs;
      if (ms) await new Promise((r) => setTimeout(r, ms));
      const key = `${release.releaseId}/${registry}`;
      const failures = behaviours.get(release.releaseId)?.failImage?.[registry] ?? 0;
      const left = imageFailuresLeft.get(key) ?? failures;
      if (left > 0) {
        imageFailuresLeft.set(key, left - 1);
        throw ApplicationFailure.nonRetryable(
          `no image ${release.image.name}:${release.image.tag} in ${release.image.source}: push it there first`,
          'ImageUnavailable',
        );
      }
      const blobs = { copied: 3, skipped: 0, mounted: 0, bytesCopied: 3000 };
      const digest = behaviours.get(release.releaseId)?.movedTag?.includes(registry)
        ? `sha256:${'cd'.repeat(32)}`
        : fakeDigest;
      return {
        registry,
        digest,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        platforms: ['linux/amd64', 'linux/arm64'],
        how: 'copied',
        blobs,
        elapsedMs: 5,
      };
    },
    async renderRegion({ release, region }) {
      note(release.releaseId, 'renderRegion', region.name);
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: region.cluster.namespace,
        name: release.app,
      };
      return {
        digest: `digest-${region.name}`,
        objects: [deployment],
        deployments: [deployment],
        image: regionImage(release, region),
      };
    },
    async deployRegion({ release, region, digest }) {
      note(release.releaseId, 'deployRegion', region.name);
      restored.delete(`${release.releaseId}/${region.name}`);
      const id = release.releaseId;
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
      maxInFlight.set(id, Math.max(maxInFlight.get(id) ?? 0, inFlight.get(id)!));
      await new Promise((r) => setTimeout(r, behaviours.get(id)?.deployMs ?? 0));
      inFlight.set(id, inFlight.get(id)! - 1);
      return { digest, applied: [], revisionCaptured: true };
    },
    async waitForRollout({ release, region }) {
      note(release.releaseId, 'waitForRollout', region.name);
      if (
        restored.has(`${release.releaseId}/${region.name}`) &&
        behaviours.get(release.releaseId)?.failRestore?.includes(region.name)
      ) {
        throw ApplicationFailure.nonRetryable(
          'Deployment shop-api failed to roll out: ProgressDeadlineExceeded',
          'RolloutFailed',
        );
      }
      // A failing rollout is the new version's: once rolled back, the old version rolls out fine.
      if (
        behaviours.get(release.releaseId)?.failRollout?.includes(region.name) &&
        !restored.has(`${release.releaseId}/${region.name}`)
      ) {
        throw ApplicationFailure.nonRetryable(
          'Deployment shop-api failed to roll out: ProgressDeadlineExceeded',
          'RolloutFailed',
        );
      }
      return { elapsedMs: 1 };
    },
    async runIntegrationChecks({ release, region }) {
      note(release.releaseId, 'runIntegrationChecks', region.name);
      const key = `${release.releaseId}/${region.name}`;
      const planned = behaviours.get(release.releaseId)?.failChecks?.[region.name] ?? 0;
      if (!checkFailuresLeft.has(key)) checkFailuresLeft.set(key, planned);
      const left = checkFailuresLeft.get(key)!;
      const fail = left > 0;
      if (fail) checkFailuresLeft.set(key, left - 1);
      return {
        endpoint: region.endpoint,
        passed: !fail,
        results: [
          {
            name: 'search in Korean',
            passed: !fail,
            checked: 'GET /search?q=결제 -> 200',
            failure: fail ? '$.query is "??", expected "결제"' : undefined,
            latencyMs: 3,
          },
        ],
      };
    },
    async findLoadBaseline({ excludeReleaseId }) {
      note(excludeReleaseId, 'findLoadBaseline', '');
      return behaviours.get(excludeReleaseId)?.baseline;
    },
    async runLoadTest({ release, region }) {
      note(release.releaseId, 'runLoadTest', region.name);
      return { figures: { ...goodLoad, ...behaviours.get(release.releaseId)?.load?.[region.name] } };
    },
    async watchBake({ release, region, analysis, startedAt, until, final, tally }) {
      note(release.releaseId, 'watchBake', region.name);
      const behaviour = behaviours.get(release.releaseId);
      const outcome =
        behaviour?.bake?.[region.name] === 'failed'
          ? 'failed'
          : behaviour?.bake?.[region.name] === 'inconclusive'
            ? 'inconclusive'
            : 'passed';
      const from = tally.last ? Date.parse(tally.last.at) + analysis.interval : startedAt;
      let next = tally;
      for (let at = from; at < until && next.verdict === 'running'; at += analysis.interval) {
        const reading = {
          name: 'health',
          outcome,
          detail:
            outcome === 'failed'
              ? 'GET /healthz answered 500, expected 200'
              : outcome === 'inconclusive'
                ? 'no data'
                : 'GET /healthz answered 200 in 3ms',
        } as const;
        next = addMeasurement(next, { at: new Date(at).toISOString(), outcome, readings: [reading] }, analysis);
      }
      return { tally: next, requests: final ? (behaviour?.bakeRequests?.[region.name] ?? 1000) : undefined };
    },
    async rollbackRegion({ release, region }) {
      note(release.releaseId, 'rollbackRegion', region.name);
      const rollbackMs = behaviours.get(release.releaseId)?.rollbackMs;
      const key = `${release.releaseId}/rollbacks`;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      maxInFlight.set(key, Math.max(maxInFlight.get(key) ?? 0, inFlight.get(key)!));
      if (rollbackMs) await new Promise((r) => setTimeout(r, rollbackMs));
      inFlight.set(key, inFlight.get(key)! - 1);
      restored.add(`${release.releaseId}/${region.name}`);
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: region.cluster.namespace,
        name: release.app,
      };
      return {
        restored: [`Deployment/${region.cluster.namespace}/${release.app}`],
        deleted: [],
        recorded: true,
        deployments: [deployment],
      };
    },
  };

  return {
    activities,
    calls: (releaseId: string, activity?: keyof MeridianActivities) =>
      calls.filter((c) => c.releaseId === releaseId && (!activity || c.activity === activity)).map((c) => c.region),
    /** The most deploys of the release that ran at once. */
    maxInFlight: (releaseId: string) => maxInFlight.get(releaseId) ?? 0,
    /** The most rollbacks of the release that ran at once. */
    maxRollbacksInFlight: (releaseId: string) => maxInFlight.get(`${releaseId}/rollbacks`) ?? 0,
    behave: (releaseId: string, behaviour: FakeBehaviour) => behaviours.set(releaseId, behaviour),
    /** Every activity the release ran, in order, with its region (or registry). */
    callsInOrder: (releaseId: string) => calls.filter((c) => c.releaseId === releaseId),
    /** The traffic steps of a release, in the order they were taken. */
    trafficSteps: (releaseId: string) => trafficSteps.get(releaseId) ?? [],
  };
}

const example = () => loadRelease(resolve(__dirname, '..', '..', 'examples', 'release.yaml'));

/**
 * A release input built from the example spec's production regions, without bake analysis, with
 * changes applied to the parsed spec. Tests about staging and analysis add them back (withStaging, withAnalysis).
 */
export function exampleInput(
  releaseId: string,
  change: (spec: ReleaseSpec) => void = () => undefined,
  overrides: ReleaseInput['overrides'] = {},
): ReleaseInput {
  const release = example();
  const spec = structuredClone(release.spec);
  spec.spec.regions = spec.spec.regions.filter((r) => r.role !== 'staging');
  delete spec.spec.validation.analysis;
  change(spec);
  const staged = spec.spec.regions.some((r) => r.role === 'staging') && spec.spec.validation.load;
  return {
    releaseId,
    spec,
    specHash: 'test',
    template: { kind: 'helm', releaseName: spec.metadata.app, files: '', sha256: 'test' },
    checks: release.checks,
    ...(staged ? { traffic: packTraffic(release.traffic!, spec.spec.validation.load!.replay, 'replay') } : {}),
    overrides,
    requestedBy: 'jest',
  };
}

/** A spec change: the example's staging region (with the load test) back in. */
export function withStaging(spec: ReleaseSpec): void {
  spec.spec.regions.unshift(...example().spec.spec.regions.filter((r) => r.role === 'staging'));
}

/** A spec change: the example's bake analysis back in. */
export function withAnalysis(spec: ReleaseSpec): void {
  spec.spec.validation.analysis = example().spec.spec.validation.analysis;
}

/** A spec change: no approval gates, for tests about something else. */
export function withoutGates(spec: ReleaseSpec): void {
  spec.spec.rollout.approvals = [];
}
