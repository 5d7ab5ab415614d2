import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { assessRollout, type RolloutAssessment } from '../../domain/deployment-rollout';
import type { ObjectRef } from '../../domain/release-input';

/** Looks once at every Deployment: complete when all are, failed as soon as one is. */
export async function assessDeployments(
  kc: KubeConfig,
  deployments: readonly ObjectRef[],
): Promise<{ assessment: RolloutAssessment; deployment?: string }> {
  const apps = kc.makeApiClient(AppsV1Api);
  for (const ref of deployments) {
    const d = await apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace! });
    const assessment = assessRollout(d);
    if (assessment.state !== 'complete') return { assessment, deployment: ref.name };
  }
  return { assessment: { state: 'complete' } };
}
