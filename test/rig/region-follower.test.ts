import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { RegionFollower } from '../../src/rig/region-follower';
import { FakeCollection, until } from '../support/fake-list-watch-edge';

const region = {
  name: 'r1',
  context: 'c',
  namespace: 'n',
  deployment: 'shop-api',
  port: 0,
  role: 'production' as const,
  traits: { traffic: 'low' as const, scripts: ['Latin'], mobileShare: 0, apis: [] },
};

const deployment: V1Deployment = {
  metadata: { name: 'shop-api', namespace: 'n' },
  spec: { selector: { matchLabels: { app: 'shop-api' } }, template: {} },
};

function pod(name: string, version: string, opts: { ready?: boolean; app?: string; deleting?: boolean } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'n',
      labels: { app: opts.app ?? 'shop-api', 'app.kubernetes.io/version': version },
      ...(opts.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: { containers: [{ name: 'app', image: `reg.local/shop-api:${version}` }] },
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

function follow() {
  const deployments = new FakeCollection<V1Deployment>();
  const pods = new FakeCollection<V1Pod>();
  const clock = { now: 1_000_000 };
  const f = new RegionFollower(
    region,
    { deployments, pods },
    { now: () => clock.now, backoff: { initialMs: 1, maxMs: 4 } },
  );
  return { f, deployments, pods, clock };
}

describe('RegionFollower', () => {
  let f: RegionFollower | undefined;
  afterEach(async () => f?.stop());

  it("counts the Deployment's ready pods by version as the watches report them, from memory", async () => {
    const w = follow();
    f = w.f;
    w.deployments.put(deployment);
    w.pods.put(pod('p1', '1.0.0'));
    w.pods.put(pod('other', '9.9.9', { app: 'someone-else' }));
    w.f.start();
    await until(() => w.f.synced && w.pods.open === 1 && w.deployments.open === 1, 'both watches');
    expect(w.f.current()).toEqual({ readyPods: { '1.0.0': 1 }, readySince: { '1.0.0': 1_000_000 } });

    // A rollout: a new pod starts, becomes ready, the old one terminates and goes.
    w.clock.now += 5_000;
    w.pods.put(pod('p2', '2.0.0', { ready: false }));
    expect(w.f.current().readyPods).toEqual({ '1.0.0': 1 });
    w.pods.put(pod('p2', '2.0.0'));
    expect(w.f.current()).toEqual({
      readyPods: { '1.0.0': 1, '2.0.0': 1 },
      readySince: { '1.0.0': 1_000_000, '2.0.0': 1_005_000 },
    });
    w.clock.now += 1_000;
    w.pods.put(pod('p1', '1.0.0', { deleting: true }));
    expect(w.f.current().readyPods).toEqual({ '2.0.0': 1 });
    w.pods.remove('p1');
    expect(w.f.current()).toEqual({ readyPods: { '2.0.0': 1 }, readySince: { '2.0.0': 1_005_000 } });
    // Nothing but the first list and watch of each was asked of the API server.
    expect([w.deployments.calls, w.pods.calls]).toEqual([
      ['list', 'watch@101'],
      ['list', 'watch@102'],
    ]);
  });

  it('reports nothing ready without the Deployment, and follows it when it comes and goes', async () => {
    const w = follow();
    f = w.f;
    w.pods.put(pod('p1', '1.0.0'));
    w.f.start();
    await until(() => w.f.synced, 'both lists');
    expect(w.f.current().readyPods).toEqual({});
    w.deployments.put(deployment);
    expect(w.f.current().readyPods).toEqual({ '1.0.0': 1 });
    w.deployments.remove('shop-api');
    expect(w.f.current().readyPods).toEqual({});
  });

  it('keeps serving what it saw while the API server is down, with the error, and catches up once it is back', async () => {
    const w = follow();
    f = w.f;
    w.deployments.put(deployment);
    w.pods.put(pod('p1', '1.0.0'));
    w.f.start();
    await until(() => w.pods.open === 1 && w.deployments.open === 1, 'both watches');

    const down = new Error('connect ECONNREFUSED 127.0.0.1:32764');
    w.deployments.down = down;
    w.pods.down = down;
    w.clock.now += 60_000;
    w.deployments.drop(down);
    w.pods.drop(down);
    await until(() => w.f.current().error !== undefined, 'the error');
    expect(w.f.current()).toMatchObject({ readyPods: { '1.0.0': 1 }, error: 'connect ECONNREFUSED 127.0.0.1:32764' });
    expect(w.f.synced).toBe(false);

    // While it was down, the release went on: the server has a new version only.
    w.pods.removeUnseen('p1');
    w.pods.putUnseen(pod('p2', '2.0.0'));
    w.deployments.down = undefined;
    w.pods.down = undefined;
    await until(() => w.f.synced, 'both lists again');
    expect(w.f.current()).toEqual({ readyPods: { '2.0.0': 1 }, readySince: { '2.0.0': 1_060_000 } });
  });

  it('lists again after 410 Gone and sees what changed meanwhile', async () => {
    const w = follow();
    f = w.f;
    w.deployments.put(deployment);
    w.pods.put(pod('p1', '1.0.0'));
    w.f.start();
    await until(() => w.pods.open === 1, 'the pods watch');
    w.pods.putUnseen(pod('p2', '1.0.0'));
    w.pods.gone();
    await until(() => w.pods.calls.filter((c) => c === 'list').length === 2 && w.pods.open === 1, 'a new list');
    expect(w.f.current().readyPods).toEqual({ '1.0.0': 2 });
  });
});
