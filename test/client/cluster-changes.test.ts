import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { previewClusterChanges } from '../../src/client/cluster-changes';
import { theRig, uniqueName } from '../support/rig';

/** What a release would change in a cluster, against one of the rig's clusters (dry runs only, besides the setup). */
const rig = theRig();
const context = rig.regions[0].context;
const namespace = uniqueName('diff-secret');
const core = () => rig.kube(context).makeApiClient(CoreV1Api);
const b64 = (text: string) => Buffer.from(text).toString('base64');
const secret = (fields: Record<string, unknown>) =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'shop-db', namespace },
    type: 'Opaque',
    ...fields,
  }) as KubernetesObject;

beforeAll(async () => {
  await core().createNamespace({ body: { metadata: { name: namespace } } });
  await core().createNamespacedSecret({
    namespace,
    body: secret({
      data: { password: b64('live-password-1'), user: b64('shop-user'), old: b64('old-value-9') },
    }) as never,
  });
});
afterAll(async () => {
  await core()
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
});

describe('previewClusterChanges', () => {
  it("shows which keys of a Secret change, never a value, from the live object or the dry run's answer", async () => {
    const rendered = secret({
      data: { user: b64('shop-user') },
      stringData: { password: 'rendered-password-2', token: 'new-token-3' },
    });
    const { changes } = await previewClusterChanges(rig.kube(context), [rendered], namespace, `cluster ${context}`);
    expect(changes.map((c) => [c.object, c.change])).toEqual([[`Secret ${namespace}/shop-db`, 'changed']]);
    const { diff } = changes[0];
    expect(diff).toContain('-  password: "*** (before)"\n+  password: "*** (after)"\n');
    // Created by another manager, the key stays after Meridian's apply: the dry run says so.
    expect(diff).toMatch(/^ {3}old: "\*\*\*"$/m);
    expect(diff).toMatch(/^\+  token: "\*\*\*"$/m);
    expect(diff).toMatch(/^ {3}user: "\*\*\*"$/m);
    for (const value of ['live-password-1', 'shop-user', 'old-value-9', 'rendered-password-2', 'new-token-3']) {
      expect(diff).not.toContain(value);
      expect(diff).not.toContain(b64(value));
    }
    // A dry run only: the Secret still holds its live values.
    const live = await core().readNamespacedSecret({ name: 'shop-db', namespace });
    expect(live.data?.password).toBe(b64('live-password-1'));
  });

  it('reports a Secret that would not change as unchanged, with stringData matching the live bytes', async () => {
    const rendered = secret({ stringData: { password: 'live-password-1', user: 'shop-user', old: 'old-value-9' } });
    const { changes } = await previewClusterChanges(rig.kube(context), [rendered], namespace, `cluster ${context}`);
    expect(changes.map((c) => c.change)).toEqual(['unchanged']);
  });
});
