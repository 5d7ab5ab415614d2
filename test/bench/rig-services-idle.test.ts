import { describeRigServicesIdle, idleCpuTarget, measureRigServicesIdle } from '../../src/bench/rig-services-idle';
import { theRig } from '../support/rig';

// Quick form of the bench's rig-idle section, on the rig's clusters: what was measured, never a bound on it.
describe("idle CPU of the rig's demo services (quick form)", () => {
  it('follows 3 regions spread over the clusters, each reporting its Deployment, and reads the process CPU over a window', async () => {
    const rig = theRig();
    const contexts = rig.config.clusters.map((c) => c.context);
    const r = await measureRigServicesIdle({
      kubeconfig: rig.layout.kubeconfig,
      contexts,
      regions: 3,
      windowMs: 3_000,
    });
    expect(r.regions).toBe(3);
    expect(r.clusters).toBe(Math.min(3, contexts.length));
    expect(r.regionsFollowed).toBe(3);
    expect(r.windowMs).toBeGreaterThanOrEqual(3_000);
    expect(r.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(r.shareOfCore).toBeCloseTo(r.cpuSeconds / (r.windowMs / 1000), 9);
    expect(r.rssBytes).toBeGreaterThan(10 * 2 ** 20);

    const { text, figures } = describeRigServicesIdle(r);
    expect(text).toMatch(
      /^rig demo services, idle: 3 regions on \d API servers \(3 reporting their Deployment's version\), synthetic users off, nothing calling\n  CPU of the services' process over [\d.]+ s: [\d.]+ s, [\d.]+% of a core \(target under 5\.00% for 30 regions; ratio [\d.]+x\); RSS \d+ MiB$/,
    );
    expect(figures).toEqual([
      {
        name: 'rig demo services idle CPU, 3 regions',
        unit: '% of a core',
        value: r.shareOfCore * 100,
        baseline: { name: 'target', value: idleCpuTarget * 100 },
        ratio: (r.shareOfCore * 100) / (idleCpuTarget * 100),
      },
    ]);
  });
});
