import {
  comparableYaml,
  compareObject,
  objectName,
  pairObjects,
  redactSecretLists,
  redactSecretPair,
  withoutServerFields,
} from '../../src/domain/object-changes';

/** A Deployment as a GET returns it: with everything the API server keeps for itself. */
const live = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'shop-api',
    namespace: 'us-west',
    uid: 'db870879-22c8-46d6-9d2d-67bb2aeb7c56',
    resourceVersion: '11373',
    generation: 23,
    creationTimestamp: new Date('2026-01-02T03:04:05Z'),
    managedFields: [{ manager: 'meridian', operation: 'Apply' }],
    labels: { 'app.kubernetes.io/name': 'shop-api' },
    annotations: {
      'deployment.kubernetes.io/revision': '23',
      'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1"}',
    },
  },
  spec: { replicas: 3, template: { metadata: { labels: { 'app.kubernetes.io/version': '2.4.0' } } } },
  status: { readyReplicas: 3, observedGeneration: 23 },
};

describe('withoutServerFields', () => {
  it('drops what the server keeps for itself and keeps the rest', () => {
    expect(withoutServerFields(live)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        annotations: { 'deployment.kubernetes.io/revision': '23' },
        labels: { 'app.kubernetes.io/name': 'shop-api' },
        name: 'shop-api',
        namespace: 'us-west',
      },
      spec: { replicas: 3, template: { metadata: { labels: { 'app.kubernetes.io/version': '2.4.0' } } } },
    });
  });

  it('leaves no empty annotations behind and does not change its argument', () => {
    const o = {
      kind: 'Service',
      metadata: { name: 's', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    };
    expect(withoutServerFields(o)).toEqual({ kind: 'Service', metadata: { name: 's' } });
    expect(o.metadata.annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
  });

  it('sorts keys at every level, so two answers in different orders print the same', () => {
    const a = { spec: { b: 1, a: [{ y: 1, x: 2 }] }, kind: 'K', apiVersion: 'v1' };
    const b = { apiVersion: 'v1', kind: 'K', spec: { a: [{ x: 2, y: 1 }], b: 1 } };
    expect(comparableYaml(a)).toBe(comparableYaml(b));
    expect(comparableYaml(a)).toBe('apiVersion: v1\nkind: K\nspec:\n  a:\n    - x: 2\n      y: 1\n  b: 1\n');
  });
});

describe('compareObject', () => {
  const labels = { from: 'live Deployment us-west/shop-api', to: 'after release Deployment us-west/shop-api' };

  it('reports an object whose only differences are server noise as unchanged', () => {
    const dryRun = structuredClone(live);
    dryRun.metadata.resourceVersion = '11374';
    dryRun.metadata.managedFields = [];
    dryRun.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"other":1}';
    dryRun.status.readyReplicas = 0;
    expect(compareObject('Deployment us-west/shop-api', comparableYaml(live), comparableYaml(dryRun), labels)).toEqual({
      object: 'Deployment us-west/shop-api',
      change: 'unchanged',
      diff: '',
    });
  });

  it('diffs a changed object under the given labels', () => {
    const after = structuredClone(live);
    after.spec.template.metadata.labels['app.kubernetes.io/version'] = '2.5.0';
    const change = compareObject('Deployment us-west/shop-api', comparableYaml(live), comparableYaml(after), labels);
    expect(change.change).toBe('changed');
    expect(change.diff).toContain(
      '--- live Deployment us-west/shop-api\n+++ after release Deployment us-west/shop-api\n',
    );
    expect(change.diff).toContain(
      '\n-        app.kubernetes.io/version: 2.4.0\n+        app.kubernetes.io/version: 2.5.0\n',
    );
  });

  it('reports a missing side as added or removed, with every line in the diff', () => {
    const added = compareObject('Service us-west/s', undefined, 'kind: Service\n', labels);
    expect(added).toMatchObject({ change: 'added', diff: expect.stringContaining('@@ -0,0 +1 @@\n+kind: Service\n') });
    expect(compareObject('Service us-west/s', 'kind: Service\n', undefined, labels).change).toBe('removed');
  });
});

describe('objectName', () => {
  it('names kind, namespace and name as kubectl users read them', () => {
    expect(objectName(live)).toBe('Deployment us-west/shop-api');
    expect(objectName({ kind: 'Namespace', metadata: { name: 'us-west' } })).toBe('Namespace us-west');
  });
});

describe('pairObjects', () => {
  it('pairs objects by API group, kind and name whatever their namespace, then lists what only the second side has', () => {
    const svc = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop-api', namespace: ns } });
    const deploy = (ns: string, apiVersion = 'apps/v1') => ({
      apiVersion,
      kind: 'Deployment',
      metadata: { name: 'shop-api', namespace: ns },
    });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'only-before', namespace: 'a' } };
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'only-after', namespace: 'b' } };
    expect(pairObjects([svc('a'), deploy('a'), cm], [job, deploy('b', 'apps/v2'), svc('b')])).toEqual([
      { before: svc('a'), after: svc('b') },
      { before: deploy('a'), after: deploy('b', 'apps/v2') },
      { before: cm, after: undefined },
      { after: job },
    ]);
  });
});

describe('redactSecretPair', () => {
  const secret = (fields: Record<string, unknown>) =>
    ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'us-west' },
      type: 'Opaque',
      ...fields,
    }) as Record<string, unknown>;
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('shows keys and whether each value changed, never a value, on both sides', () => {
    const live = secret({ data: { password: b64('hunter2-old'), user: b64('shop'), gone: b64('old-only') } });
    const rendered = secret({
      data: { password: b64('hunter2-new'), user: b64('shop') },
      stringData: { token: 'tok-new-value' },
    });
    const [before, after] = redactSecretPair(live, rendered);
    expect(before).toMatchObject({ data: { password: '*** (before)', user: '***', gone: '***' } });
    expect(after).toMatchObject({ data: { password: '*** (after)', user: '***' }, stringData: { token: '***' } });
    const change = compareObject('Secret us-west/db', comparableYaml(before!), comparableYaml(after!), {
      from: 'live',
      to: 'after',
    });
    expect(change.change).toBe('changed');
    expect(change.diff).toContain('-  gone: "***"\n');
    expect(change.diff).toContain('-  password: "*** (before)"\n+  password: "*** (after)"\n');
    expect(change.diff).toContain('+stringData:\n+  token: "***"\n');
    for (const value of ['hunter2', 'shop', 'old-only', 'tok-new', b64('hunter2-old'), b64('shop'), b64('old-only')])
      expect(change.diff).not.toContain(value);
  });

  it('counts stringData and data with the same bytes as the same value, and leaves its arguments alone', () => {
    const live = secret({ data: { token: b64('tok-5f3a9c') } });
    const rendered = secret({ stringData: { token: 'tok-5f3a9c' } });
    expect(redactSecretPair(live, rendered)).toEqual([
      secret({ data: { token: '***' } }),
      secret({ stringData: { token: '***' } }),
    ]);
    expect(live.data).toEqual({ token: b64('tok-5f3a9c') });
  });

  it('redacts a Secret that is only on one side, and data that is not a map; leaves other kinds as they are', () => {
    expect(redactSecretPair(undefined, secret({ data: { k: b64('v') } }))).toEqual([
      undefined,
      secret({ data: { k: '***' } }),
    ]);
    expect(redactSecretPair(secret({ data: 'not-a-map' }), undefined)).toEqual([secret({ data: '***' }), undefined]);
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' } };
    expect(redactSecretPair(config, config)).toEqual([config, config]);
  });
});

describe('redactSecretLists', () => {
  it("redacts each region's Secrets, paired by kind and name across namespaces, in each list's order", () => {
    const secret = (ns: string, value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: ns },
      data: { password: Buffer.from(value).toString('base64') },
    });
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop-api' } };
    const [from, to] = redactSecretLists([service, secret('canary', 'one')], [secret('us-west', 'two'), service]);
    expect(from).toEqual([service, { ...secret('canary', ''), data: { password: '*** (before)' } }]);
    expect(to).toEqual([{ ...secret('us-west', ''), data: { password: '*** (after)' } }, service]);
  });
});
