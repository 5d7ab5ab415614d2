import { proxyActivities } from '@temporalio/workflow';
import type { MeridianActivities } from '../activities/region-activities';

/** Short steps: rendering, checks. Transient failures are retried a few times. */
export const quick = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '20s', maximumAttempts: 5 },
});

/** Applying manifests. A worker that dies mid-step is noticed within the heartbeat timeout, and the step retried elsewhere. */
export const deploying = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Waiting for a rollout: long, heartbeating on every look at the Deployments. */
export const rollingOut = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Rolling back: retried for longer, because a region left half-deployed is the worse outcome. */
export const restoring = proxyActivities<MeridianActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 30 },
});
