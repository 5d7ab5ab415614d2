import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { serverSideApply } from '../../src/infra/kubernetes/server-side-apply';
import { assessRollout, type RolloutAssessment } from '../../src/domain/deployment-rollout';
import { eventually } from '../support/eventually';
import { theRig, uniqueName } from '../support/rig';

const rig = theRig();

function deployment(
  name: string,
  namespace: string,
  options: { replicas: number; cpu: string; deadlineSeconds?: number },
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: options.replicas,
      progressDeadlineSeconds: options.deadlineSeconds,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'web', image: '127.0.0.1:5101/rig/web:1.0.0', resources: { requests: { cpu: options.cpu } } },
          ],
        },
      },
    },
  };
}

async function rolloutOf(
  kc: KubeConfig,
  name: string,
  namespace: string,
): Promise<{ assessment: RolloutAssessment; d: V1Deployment }> {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  return { assessment: assessRollout(d), d };
}

describe.each(rig.config.clusters.map((c) => c.context))('KWOK cluster %s', (context) => {
  const kc = rig.kube(context);
  const namespace = uniqueName('rig-test');

  beforeAll(async () => {
    await serverSideApply(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  });

  afterAll(async () => {
    await kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
  });

  it('has the simulated nodes the rig config asks for, all Ready', async () => {
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    const ready = nodes.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(ready.length).toBeGreaterThanOrEqual(rig.config.clusters.find((c) => c.context === context)!.nodes);
  });

  it('rolls a Deployment applied through @kubernetes/client-node out to all replicas available', async () => {
    await serverSideApply(kc, [deployment('web', namespace, { replicas: 3, cpu: '100m' })]);
    const { d } = await eventually(async () => {
      const r = await rolloutOf(kc, 'web', namespace);
      return r.assessment.state === 'complete' ? r : undefined;
    }, 'the web Deployment to roll out');
    expect(d.status?.availableReplicas).toBe(3);
    expect(d.status?.updatedReplicas).toBe(3);
    expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'app=web' });
    expect(pods.items.filter((p) => p.status?.phase === 'Running' && p.spec?.nodeName)).toHaveLength(3);
  });

  it('reports ProgressDeadlineExceeded for a Deployment that no node can fit', async () => {
    await serverSideApply(kc, [deployment('too-big', namespace, { replicas: 1, cpu: '64', deadlineSeconds: 3 })]);
    const { assessment } = await eventually(async () => {
      const r = await rolloutOf(kc, 'too-big', namespace);
      return r.assessment.state === 'failed' ? r : undefined;
    }, 'the too-big Deployment to pass its progress deadline');
    expect(assessment).toMatchObject({ state: 'failed', reason: 'ProgressDeadlineExceeded' });
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'app=too-big' });
    expect(pods.items.every((p) => p.status?.phase === 'Pending')).toBe(true);
  });
});
