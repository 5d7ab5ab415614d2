import { KubeConfig } from '@kubernetes/client-node';
import { RegionFollower } from '../../src/rig/region-follower';

const region = {
  name: 'r1',
  context: 'c',
  namespace: 'n',
  deployment: 'shop-api',
  port: 0,
  role: 'production' as const,
  traits: { traffic: 'low' as const, scripts: ['Latin'], mobileShare: 0, apis: [] },
};

function follower(clock: { now: number }, answers: Record<string, number>[]) {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }, { name: 'u' });
  const f = new RegionFollower(region, kc, 500, () => clock.now);
  // The cluster's answers, one per look, without a cluster.
  const look = jest.spyOn(
    f as unknown as { readyPodsByVersion: () => Promise<Record<string, number>> },
    'readyPodsByVersion',
  );
  for (const answer of answers) look.mockResolvedValueOnce(answer);
  return { f, look };
}

describe('RegionFollower.fresh', () => {
  it('looks again when its last look is older than the limit, so a request right after a rollout sees the new pods', async () => {
    const clock = { now: 10_000 };
    const { f, look } = follower(clock, [{ '1.0.0': 2 }, { '2.0.0': 2 }]);
    expect((await f.fresh(50)).readyPods).toEqual({ '1.0.0': 2 });
    clock.now += 20;
    expect((await f.fresh(50)).readyPods).toEqual({ '1.0.0': 2 });
    expect(look).toHaveBeenCalledTimes(1);
    clock.now += 60; // the rollout finished meanwhile
    expect((await f.fresh(50)).readyPods).toEqual({ '2.0.0': 2 });
    expect(look).toHaveBeenCalledTimes(2);
  });

  it('shares one look between concurrent requests', async () => {
    const clock = { now: 10_000 };
    const { f, look } = follower(clock, [{ '1.0.0': 1 }]);
    await Promise.all([f.fresh(50), f.fresh(50), f.fresh(50)]);
    expect(look).toHaveBeenCalledTimes(1);
  });
});
