import { compareApplyWithKubectl, describeApplyComparison } from '../../src/bench/apply-vs-kubectl';
import { theRig } from '../support/rig';

// Quick form of bench section 3 against the rig's first cluster: what was measured, never a time bound.
describe('server-side apply bench (quick form)', () => {
  it("applies the example's first region both ways, taking turns, and compares the medians", async () => {
    const c = await compareApplyWithKubectl({ kubeconfig: theRig().layout.kubeconfig, rounds: 2 });
    expect(c.region).toBe('us-east-canary');
    expect(c.objects).toBeGreaterThan(0);
    expect(c.oursMs).toHaveLength(2);
    expect(c.kubectlMs).toHaveLength(2);
    for (const x of [...c.oursMs, ...c.kubectlMs, c.ratio]) expect(Number.isFinite(x) && x > 0).toBe(true);
    expect(c.ratio).toBeCloseTo(c.oursMedianMs / c.kubectlMedianMs, 6);

    const { text, figures } = describeApplyComparison(c);
    expect(text).toMatch(
      /^apply of \d+ objects \(us-east-canary\), 2 rounds each, alternating: Meridian median [\d.]+ ms, kubectl apply --server-side median [\d.]+ ms/,
    );
    expect(figures).toEqual([
      {
        name: `server-side apply of ${c.objects} objects`,
        unit: 'ms',
        value: c.oursMedianMs,
        baseline: { name: 'kubectl apply --server-side', value: c.kubectlMedianMs },
        ratio: c.ratio,
      },
    ]);
  });
});
