import { ApplicationFailure } from '@temporalio/common';
import type { MeridianActivities } from '../../src/activities/region-activities';
import { loadRelease } from '../../src/client/release-file';
import type { ReleaseInput } from '../../src/domain/release-input';
import type { ReleaseSpec } from '../../src/domain/release-spec';
import { resolve } from 'node:path';

/** How the fake world behaves for one release. */
export interface FakeBehaviour {
  /** Regions whose integration checks fail, and how many times (Infinity: always). */
  failChecks?: Record<string, number>;
  /** Regions whose rollout fails with ProgressDeadlineExceeded. */
  failRollout?: string[];
  /** Real time each deploy takes, to observe parallelism. */
  deployMs?: number;
}

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

  const note = (releaseId: string, activity: keyof MeridianActivities, region: string) => calls.push({ releaseId, activity, region });

  const activities: MeridianActivities = {
    async renderRegion({ release, region }) {
      note(release.releaseId, 'renderRegion', region.name);
      const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: region.cluster.namespace, name: release.app };
      return { digest: `digest-${region.name}`, objects: [deployment], deployments: [deployment], image: `${region.registry}/${release.image.name}:${release.image.tag}` };
    },
    async deployRegion({ release, region, digest }) {
      note(release.releaseId, 'deployRegion', region.name);
      const id = release.releaseId;
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
      maxInFlight.set(id, Math.max(maxInFlight.get(id) ?? 0, inFlight.get(id)!));
      await new Promise((r) => setTimeout(r, behaviours.get(id)?.deployMs ?? 0));
      inFlight.set(id, inFlight.get(id)! - 1);
      return { digest, applied: [], revisionCaptured: true };
    },
    async waitForRollout({ release, region }) {
      note(release.releaseId, 'waitForRollout', region.name);
      if (behaviours.get(release.releaseId)?.failRollout?.includes(region.name)) {
        throw ApplicationFailure.nonRetryable('Deployment shop-api failed to roll out: ProgressDeadlineExceeded', 'RolloutFailed');
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
        results: [{ name: 'search in Korean', passed: !fail, checked: 'GET /search?q=결제 -> 200', failure: fail ? '$.query is "??", expected "결제"' : undefined, latencyMs: 3 }],
      };
    },
    async rollbackRegion({ release, region }) {
      note(release.releaseId, 'rollbackRegion', region.name);
      return { restored: [`Deployment/${region.cluster.namespace}/${release.app}`], deleted: [], recorded: true };
    },
  };

  return {
    activities,
    calls: (releaseId: string, activity?: keyof MeridianActivities) =>
      calls.filter((c) => c.releaseId === releaseId && (!activity || c.activity === activity)).map((c) => c.region),
    maxInFlight: (releaseId: string) => maxInFlight.get(releaseId) ?? 0,
    behave: (releaseId: string, behaviour: FakeBehaviour) => behaviours.set(releaseId, behaviour),
  };
}

/** A release input built from the example spec, with changes applied to the parsed spec. */
export function exampleInput(releaseId: string, change: (spec: ReleaseSpec) => void = () => undefined, overrides: ReleaseInput['overrides'] = {}): ReleaseInput {
  const release = loadRelease(resolve(__dirname, '..', '..', 'examples', 'release.yaml'));
  const spec = structuredClone(release.spec);
  change(spec);
  return {
    releaseId,
    spec,
    specHash: 'test',
    template: { kind: 'helm', releaseName: spec.metadata.app, files: '', sha256: 'test' },
    checks: release.checks,
    overrides,
    requestedBy: 'jest',
  };
}

/** A spec change: no approval gates, for tests about something else. */
export function withoutGates(spec: ReleaseSpec): void {
  spec.spec.rollout.approvals = [];
}
