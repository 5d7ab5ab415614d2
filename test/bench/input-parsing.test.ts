import { benchInputParsing, describeInputParsing } from '../../src/bench/input-parsing';

describe('recorded traffic parsing bench (quick form)', () => {
  it('reads every case at the bound and refuses the line over it, beside its baseline', () => {
    const results = benchInputParsing({ rounds: 1, longLineChars: 256 * 1024 });
    expect(results.map((r) => r.accepted)).toEqual([false, true, true, true, false, true]);
    for (const r of results) {
      expect(r.chars).toBeGreaterThan(60_000);
      expect(r.parseMs).toBeGreaterThan(0);
      expect(r.baselineMs).toBeGreaterThan(0);
    }
    const text = describeInputParsing(results);
    expect(text.split('\n')).toHaveLength(7);
    expect(text).toMatch(
      /access log line of 262144 characters \(over the bound: refused\): [\d.]+ ms \(refused\), baseline [\d.]+ ms, ratio [\d.]+x/,
    );
  });
});
