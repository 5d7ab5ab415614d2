import { compareApplyWithFloor, describeApplyComparison } from '../../src/bench/apply-vs-floor';
import { theRig } from '../support/rig';

// Quick form of bench section 3 against the rig's first cluster: what was measured, never a time bound.
describe('server-side apply bench (quick form)', () => {
  it("applies the example's first region three ways, taking turns, and compares the medians", async () => {
    const c = await compareApplyWithFloor({ kubeconfig: theRig().layout.kubeconfig, rounds: 2 });
    expect(c.region).toBe('us-east-canary');
    expect(c.objects).toBeGreaterThan(0);
    for (const turns of [c.oursMs, c.floorMs, c.kubectlMs]) expect(turns).toHaveLength(2);
    for (const x of [...c.oursMs, ...c.floorMs, ...c.kubectlMs, c.ratio, c.kubectlRatio]) {
      expect(Number.isFinite(x) && x > 0).toBe(true);
    }
    expect(c.ratio).toBeCloseTo(c.oursMedianMs / c.floorMedianMs, 6);
    expect(c.kubectlRatio).toBeCloseTo(c.oursMedianMs / c.kubectlMedianMs, 6);

    const { text, figures } = describeApplyComparison(c);
    expect(text).toMatch(
      /^apply of \d+ objects \(us-east-canary\), 2 rounds each way, taking turns: Meridian median [\d.]+ ms, the same PATCH requests sent bare on one kept-alive connection [\d.]+ ms \([\d.]+x the floor\), kubectl apply --server-side [\d.]+ ms/,
    );
    expect(figures).toEqual([
      {
        name: `server-side apply of ${c.objects} objects`,
        unit: 'ms',
        value: c.oursMedianMs,
        baseline: { name: 'the same PATCH requests sent bare', value: c.floorMedianMs },
        ratio: c.ratio,
      },
      {
        name: `server-side apply of ${c.objects} objects, against kubectl`,
        unit: 'ms',
        value: c.oursMedianMs,
        baseline: { name: 'kubectl apply --server-side', value: c.kubectlMedianMs },
        ratio: c.kubectlRatio,
      },
    ]);
  });
});
