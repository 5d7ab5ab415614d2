import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { MeridianActivities } from '../activities/region-activities';
import type { IntegrationSuite } from '../domain/integration-checks';

/**
 * How long a step that heartbeats may go unheard before Temporal gives it to another worker: what a
 * killed worker costs that step (plus the first retry's interval). The steps heartbeat every few
 * seconds; the SDK sends at most one heartbeat per 80% of this, so 20 s leaves them 4 s to arrive.
 */
export const heartbeatTimeout = '20 seconds';

/** Short steps that do not heartbeat: rendering (helm, in process) and the load-baseline lookup. Transient failures are retried a few times. */
export const quick = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '20s', maximumAttempts: 5 },
});

/**
 * Rendering as a local activity: run by the worker that holds the region's workflow task, inside that
 * task, so it costs no task-queue round trip and no workflow task of its own (one of the five a region
 * took). Fit because rendering is short (helm on the worker, seconds at most) and does not heartbeat: a
 * worker lost mid-render loses its workflow task, which times out and runs again elsewhere, render and
 * all. Same retries as `quick`.
 */
export const quickLocal = proxyLocalActivities<MeridianActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '20s', maximumAttempts: 5 },
});

/**
 * A region's share of its hostname's DNS answers: a few API calls, written idempotently. A DNS API that
 * does not answer is retried for about half a minute, then the region fails (before its cluster is
 * touched, when it is the first step).
 */
export const steering = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '90 seconds',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
});

/** Applying manifests. A worker that dies mid-step is noticed within the heartbeat timeout, and the step retried elsewhere. */
export const deploying = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout,
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Waiting for a rollout: long, heartbeating on every look at the Deployments. */
export const rollingOut = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout,
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Rolling back: retried for longer, because a region left half-deployed is the worse outcome; heartbeating, so a lost worker's rollback restarts within the heartbeat timeout, not the 5 minutes. */
export const restoring = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout,
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 30 },
});

/** HTTP checks: each answers within 10 s, but a suite of them takes a while; heartbeating, so a lost worker's checks run again within the heartbeat timeout. */
const checkingHttp = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout,
  retry: { initialInterval: '1s', maximumInterval: '20s', maximumAttempts: 5 },
});

/** Integration checks: HTTP checks are quick; job and command checks may each take up to their timeout. Both heartbeat. */
export function checking(suite: IntegrationSuite) {
  const slowMs = suite.checks.reduce((sum, c) => sum + (c.kind === 'http' ? 15_000 : c.timeout + 30_000), 0);
  if (suite.checks.every((c) => c.kind === 'http')) return checkingHttp;
  return proxyActivities<MeridianActivities>({
    startToCloseTimeout: slowMs + 60_000,
    heartbeatTimeout,
    retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3 },
  });
}

/** A load test: as long as the test, plus time to read Prometheus; heartbeating as requests go out. */
export function loadTesting(durationMs: number) {
  return proxyActivities<MeridianActivities>({
    startToCloseTimeout: durationMs + 2 * 60_000,
    heartbeatTimeout,
    retry: { initialInterval: '5s', maximumInterval: '30s', maximumAttempts: 3 },
  });
}

/** Watching a stretch of a bake: heartbeating between measurements, so a lost worker's watch resumes elsewhere. */
export function watching(windowMs: number) {
  return proxyActivities<MeridianActivities>({
    startToCloseTimeout: Math.max(0, windowMs) + 2 * 60_000,
    heartbeatTimeout,
    retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 20 },
  });
}

/**
 * Getting the image into a registry: as long as the spec's replication timeout allows, heartbeating as
 * blobs arrive, so a lost worker's copy resumes elsewhere (blobs already there are skipped).
 */
export function replicating(timeoutMs: number) {
  return proxyActivities<MeridianActivities>({
    startToCloseTimeout: timeoutMs + 60_000,
    heartbeatTimeout,
    retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
    // A cancelled copy is waited for, so that nothing of the release runs once it has ended.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
}
