import { describeTrafficFailover, measureTrafficFailover } from '../../src/bench/traffic-failover';

// Times depend on the machine and the server's check phase: this asserts what was measured, never a bound.
describe('traffic failover and drain propagation bench (quick form)', () => {
  it('measures failover against the check interval and drain propagation against the TTL on a private PowerDNS', async () => {
    const r = await measureTrafficFailover({ trials: 2 });
    expect(r.failovers).toHaveLength(2);
    expect(r.drains).toHaveLength(2);
    const positive = (x: number) => expect(Number.isFinite(x) && x > 0).toBe(true);
    for (const t of r.failovers) {
      expect(t.answeredBy).not.toBe(t.region);
      positive(t.failoverMs);
      positive(t.recoveryMs);
    }
    for (const t of r.drains) [t.writeMs, t.fromWriteStartMs, t.fromWriteReturnMs].forEach(positive);
    [r.failoverRatio, r.recoveryRatio, r.drainFromStartRatio, r.drainFromReturnRatio].forEach(positive);

    const text = describeTrafficFailover(r);
    expect(text).toMatch(
      /failover, health lost to answer changed .*: median [\d.]+ ms, max [\d.]+ ms; ratio [\d.]+x the 1 s check interval/,
    );
    expect(text).toMatch(/recovery, health back to answered again: .*ratio [\d.]+x the check interval/);
    expect(text).toMatch(
      /setRegion\(drained\) started to the first answer without the region .*ratio [\d.]+x the 2 s TTL/,
    );
    expect(text).toMatch(/setRegion returned to the first answer without the region .*ratio [\d.]+x the TTL/);
    expect(text).toContain('resolvers may hold the old answer for up to one TTL (2 s)');
  });
});
