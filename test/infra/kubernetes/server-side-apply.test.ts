import { ApiException, ApiextensionsV1Api, CoreV1Api, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { closeSharedConnections } from '../../../src/infra/kubernetes/connection-pool';
import { kubeConfigForContext } from '../../../src/infra/kubernetes/kube-config';
import { forgetDiscovery } from '../../../src/infra/kubernetes/object-api';
import { serverSideApply } from '../../../src/infra/kubernetes/server-side-apply';
import { eventually } from '../../support/eventually';
import { theRig, uniqueName } from '../../support/rig';

const rig = theRig();
const context = rig.config.clusters[0].context;
const kube = () => kubeConfigForContext(context, rig.layout.kubeconfig);
const namespace = uniqueName('ssa-test');
const configMap = (name: string, data: Record<string, string>, ns?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(ns ? { namespace: ns } : {}) },
  data,
});

beforeAll(async () => {
  await serverSideApply(kube(), [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
});

afterAll(async () => {
  await kube()
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
});

describe('server-side apply against a real API server', () => {
  it('applies in order, answers with the stored objects, and changes nothing when applied again', async () => {
    const objects = [configMap('one', { a: '1' }, namespace), configMap('two', { b: '2' }, namespace)];
    const first = await serverSideApply(kube(), objects);
    expect(first.map((o) => [o.metadata?.name, o.metadata?.namespace])).toEqual([
      ['one', namespace],
      ['two', namespace],
    ]);
    expect(first[0].metadata?.managedFields?.map((f) => f.manager)).toContain('meridian');
    const again = await serverSideApply(kube(), objects);
    expect(again.map((o) => o.metadata?.resourceVersion)).toEqual(first.map((o) => o.metadata?.resourceVersion));
  });

  it('puts an object that names no namespace in the one it is given', async () => {
    const [applied] = await serverSideApply(kube(), [configMap('given', { c: '3' })], { namespace });
    expect(applied.metadata?.namespace).toBe(namespace);
    const read = await kube().makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'given', namespace });
    expect(read.data).toEqual({ c: '3' });
  });

  it('stores nothing on a dry run', async () => {
    const [answer] = await serverSideApply(kube(), [configMap('dry', { d: '4' }, namespace)], { dryRun: true });
    expect(answer.metadata?.name).toBe('dry');
    await expect(
      kube().makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'dry', namespace }),
    ).rejects.toMatchObject({ code: 404 });
  });

  it("throws the server's refusal with its status code and Status body", async () => {
    const invalid = configMap('Not_A_Valid_Name', { e: '5' }, namespace);
    const err = (await serverSideApply(kube(), [invalid]).catch((e: unknown) => e)) as ApiException<{
      message: string;
    }>;
    expect(err).toBeInstanceOf(ApiException);
    expect(err.code).toBe(422);
    expect(err.body.message).toMatch(/Not_A_Valid_Name/);
  });

  it('names a kind the server does not serve', async () => {
    await expect(
      serverSideApply(kube(), [{ apiVersion: 'v1', kind: 'NoSuchKind', metadata: { name: 'x', namespace } }]),
    ).rejects.toThrow('Unrecognized API version and kind: v1 NoSuchKind');
  });

  it('asks the server again for a kind its remembered discovery lacks (a CRD installed since)', async () => {
    const group = `${uniqueName('t')}.meridian.test`;
    const crd = (kind: string) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${kind.toLowerCase()}s.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    const custom = (kind: string) => ({ apiVersion: `${group}/v1`, kind, metadata: { name: 'one', namespace } });
    const established = (kind: string) =>
      eventually(
        async () => ((await serverSideApply(kube(), [custom(kind)])).length === 1 ? true : undefined),
        `${kind} served`,
        30_000,
      );
    try {
      forgetDiscovery();
      await serverSideApply(kube(), [crd('Widget')]);
      await established('Widget');
      // Discovery of the group version now lacks Gadget; the first apply after its CRD must still work.
      await serverSideApply(kube(), [crd('Gadget')]);
      await eventually(async () => {
        const list = (await kube()
          .makeApiClient(ApiextensionsV1Api)
          .readCustomResourceDefinition({ name: `gadgets.${group}` })) as V1CustomResourceDefinition;
        return list.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
      }, 'Gadget established');
      const [gadget] = await eventually(
        async () => serverSideApply(kube(), [custom('Gadget')]).catch(() => undefined),
        'Gadget applied',
        30_000,
      );
      expect(gadget.kind).toBe('Gadget');
    } finally {
      const crds = kube().makeApiClient(ApiextensionsV1Api);
      for (const kind of ['widgets', 'gadgets'])
        await crds.deleteCustomResourceDefinition({ name: `${kind}.${group}` }).catch(() => undefined);
    }
  });

  it('sends one deploy\u2019s requests, and the next deploy\u2019s, on one kept-alive connection', async () => {
    closeSharedConnections();
    const kc = kube();
    const agent = (await kc.applyToFetchOptions({})).agent as { createConnection: (...args: unknown[]) => unknown };
    const connect = agent.createConnection;
    let connections = 0;
    agent.createConnection = function (this: unknown, ...args: unknown[]) {
      connections++;
      return connect.apply(this, args);
    };
    try {
      await serverSideApply(
        kc,
        [1, 2, 3, 4].map((i) => configMap(`reuse-${i}`, { i: String(i) }, namespace)),
      );
      await serverSideApply(kube(), [configMap('reuse-5', { i: '5' }, namespace)]);
    } finally {
      agent.createConnection = connect;
    }
    expect(connections).toBe(1);
  });
});
