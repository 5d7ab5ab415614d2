import { createHash } from 'node:crypto';
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { CheckResult, JobCheck } from '../../domain/integration-checks';
import { formatDuration } from '../../domain/duration';
import { tailOf } from './check-environment';

export interface JobCheckTarget {
  kc: KubeConfig;
  namespace: string;
  /** Identifies this run of the check: a retried activity finds its Job again instead of starting another. */
  runKey: string;
  environment: Record<string, string>;
  pollMs: number;
  /** Called on every look at the Job (the activity heartbeats). */
  onPoll?: (state: string) => void;
  signal?: AbortSignal;
}

/** A Job name from the check's name and its run: readable, unique per run, a valid DNS label. */
export function jobNameFor(checkName: string, runKey: string): string {
  const slug =
    checkName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'check';
  const hash = createHash('sha256').update(`${runKey}\u0000${checkName}`).digest('hex').slice(0, 10);
  return `meridian-${slug}-${hash}`.replace(/-+/g, '-');
}

function jobFor(check: JobCheck, name: string, target: JobCheckTarget): V1Job {
  const env = Object.entries({ ...check.job.env, ...target.environment }).map(([key, value]) => ({ name: key, value }));
  const labels = { 'app.kubernetes.io/managed-by': 'meridian', 'meridian.dev/check': name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: target.namespace, labels, annotations: { 'meridian.dev/check-name': check.name } },
    spec: {
      backoffLimit: check.job.backoffLimit,
      activeDeadlineSeconds: Math.max(1, Math.ceil(check.timeout / 1000)),
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: { ...check.job.labels, ...labels } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'check', image: check.job.image, command: check.job.command, args: check.job.args, env },
          ],
        },
      },
    },
  };
}

/**
 * Runs a job check: creates a Kubernetes Job in the region's namespace (once per run, so a retry finds
 * it again) and waits for it to succeed or fail. The Job's own deadline bounds the wait.
 */
export async function runJobCheck(check: JobCheck, target: JobCheckTarget): Promise<CheckResult> {
  const name = jobNameFor(check.name, target.runKey);
  const checked = `Job ${target.namespace}/${name} (${check.job.image}) -> succeeds within ${formatDuration(check.timeout)}`;
  const started = performance.now();
  const result = (failure?: string): CheckResult => ({
    name: check.name,
    passed: failure === undefined,
    checked,
    failure,
    latencyMs: Math.round(performance.now() - started),
  });
  const batch = target.kc.makeApiClient(BatchV1Api);
  try {
    await batch.createNamespacedJob({ namespace: target.namespace, body: jobFor(check, name, target) });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  // Past the Job's own deadline by this much, the controller has had its chance to mark it.
  const giveUpAt = Date.now() + check.timeout + 30_000;
  for (;;) {
    const job = await batch.readNamespacedJob({ name, namespace: target.namespace });
    const condition = (type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
    if (condition('Complete')) return result();
    const failed = condition('Failed');
    if (failed) {
      const why = `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`;
      return result(`the Job failed (${why})${await podOutcome(target, name)}`);
    }
    if (Date.now() > giveUpAt) {
      await deleteJob(batch, name, target.namespace);
      return result(`the Job did not finish within ${formatDuration(check.timeout)}; deleted it`);
    }
    target.onPoll?.(`Job ${name}: ${job.status?.active ?? 0} active, ${job.status?.failed ?? 0} failed`);
    if (target.signal?.aborted) {
      await deleteJob(batch, name, target.namespace);
      return result('stopped: the check was cancelled');
    }
    await new Promise((r) => setTimeout(r, target.pollMs));
  }
}

/** Deletes a Job and its pods; a Job already gone is fine. */
async function deleteJob(batch: BatchV1Api, name: string, namespace: string): Promise<void> {
  try {
    await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
  } catch {
    // Gone already, or the cluster is unreachable: its TTL removes it later.
  }
}

/** The exit code and the end of the log of the Job's last failed pod, as far as the cluster knows them. */
async function podOutcome(target: JobCheckTarget, jobName: string): Promise<string> {
  const core = target.kc.makeApiClient(CoreV1Api);
  try {
    const pods = await core.listNamespacedPod({ namespace: target.namespace, labelSelector: `job-name=${jobName}` });
    const pod = pods.items.filter((p) => p.status?.phase === 'Failed').at(-1);
    if (!pod) return '';
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    let logs = '';
    try {
      logs = await core.readNamespacedPodLog({
        name: pod.metadata!.name!,
        namespace: target.namespace,
        container: 'check',
        tailLines: 20,
      });
    } catch {
      // Logs may be gone or not kept (a simulated node has none); the exit code still says something.
    }
    const exit = terminated
      ? `; pod ${pod.metadata!.name} exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`
      : '';
    return `${exit}${logs.trim() ? `; log: ${tailOf(logs)}` : ''}`;
  } catch {
    return '';
  }
}
