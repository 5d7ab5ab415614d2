import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { serverSideApply } from '../../src/infra/kubernetes/server-side-apply';
import { jobPodExitStage, kwokStagesText, simulateExitCodeLabel, withStagesConfig } from '../../src/rig/kwok-stages';
import { eventually } from '../support/eventually';
import { theRig, uniqueName } from '../support/rig';

const rig = theRig();

describe('the kwok stages file', () => {
  it('holds one Stage for Job pods with the label, weighted above the default pod-complete', () => {
    const doc = parse(kwokStagesText()) as ReturnType<typeof jobPodExitStage> & {
      spec: { weight: number; resourceRef: unknown };
    };
    expect(doc).toMatchObject({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Stage',
      spec: { weight: 1, resourceRef: { apiGroup: 'v1', kind: 'Pod' } },
    });
    expect(JSON.stringify(doc)).toContain(simulateExitCodeLabel);
  });
});

describe('withStagesConfig', () => {
  // The shape kwokctl writes: its own configuration first (with the components it starts), then Stages.
  const kwokYaml = [
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokctlConfiguration',
    'components:',
    '- name: etcd',
    '  args:',
    '  - --name=node0',
    '- name: kwok-controller',
    '  args:',
    '  - --manage-all-nodes=true',
    '  - --config=/w/clusters/c/kwok.yaml',
    '  binary: /w/bin/kwok',
    '---',
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: Stage',
    'metadata:',
    '  name: pod-complete',
    'spec:',
    '  next:',
    '    statusTemplate: |',
    '      phase: Succeeded',
    '',
  ].join('\n');

  it("adds the stages file to the kwok controller's arguments once, and leaves everything else as it was", () => {
    const patched = withStagesConfig(kwokYaml, '/rig/kwok-stages.yaml')!;
    const [settings, stage] = parseAllDocuments(patched).map((d) => d.toJS());
    const [original, originalStage] = parseAllDocuments(kwokYaml).map((d) => d.toJS());
    expect(settings.components[1].args).toEqual([
      '--manage-all-nodes=true',
      '--config=/w/clusters/c/kwok.yaml',
      '--config=/rig/kwok-stages.yaml',
    ]);
    expect(settings.components[0]).toEqual(original.components[0]);
    expect(stage).toEqual(originalStage);
    expect(withStagesConfig(patched, '/rig/kwok-stages.yaml')).toBeUndefined();
  });

  it('refuses a file without a kwok controller, rather than guessing', () => {
    expect(() => withStagesConfig('kind: KwokctlConfiguration\ncomponents: []\n', '/s.yaml')).toThrow(
      /kwok-controller/,
    );
  });

  it.each(rig.config.clusters.map((c) => c.context))('is in force for the rig cluster %s', (context) => {
    const file = join(rig.layout.kwokWorkdir, 'clusters', context, 'kwok.yaml');
    expect(withStagesConfig(readFileSync(file, 'utf8'), rig.layout.kwokStages)).toBeUndefined();
  });
});

function job(name: string, namespace: string, exitCode?: string): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { app: name, ...(exitCode !== undefined ? { [simulateExitCodeLabel]: exitCode } : {}) } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: '127.0.0.1:5101/rig/check:1.0.0' }] },
      },
    },
  };
}

/** The Job's terminal condition (Complete or Failed), once it has one. */
async function finished(kc: KubeConfig, name: string, namespace: string): Promise<{ type: string; reason?: string }> {
  return eventually(
    async () => {
      const j = await kc.makeApiClient(BatchV1Api).readNamespacedJob({ name, namespace });
      const done = j.status?.conditions?.find((c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True');
      return done ? { type: done.type, reason: done.reason } : undefined;
    },
    `Job ${name} to finish`,
    60_000,
    250,
  );
}

describe.each(rig.config.clusters.map((c) => c.context))('Jobs on the KWOK cluster %s', (context) => {
  const kc = rig.kube(context);
  const namespace = uniqueName('rig-jobs');

  beforeAll(async () => {
    await serverSideApply(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  });

  afterAll(async () => {
    await kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
  });

  it(`fail when their pods carry ${simulateExitCodeLabel}, with that exit code; complete otherwise`, async () => {
    await serverSideApply(kc, [
      job('fails', namespace, '3'),
      job('passes', namespace),
      job('exit-zero', namespace, '0'),
    ]);
    const [fails, passes, exitZero] = await Promise.all([
      finished(kc, 'fails', namespace),
      finished(kc, 'passes', namespace),
      finished(kc, 'exit-zero', namespace),
    ]);
    expect(fails).toEqual({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    expect(passes.type).toBe('Complete');
    expect(exitZero.type).toBe('Complete');

    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'app=fails' });
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0].status?.phase).toBe('Failed');
    expect(pods.items[0].status?.containerStatuses?.[0].state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
  });
});
