import { LatencyHistogram } from '../../../src/infra/load/latency-histogram';

describe('LatencyHistogram', () => {
  it('gives percentiles and max in milliseconds, to three significant digits', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 ms .. 100 ms
    expect(h.count).toBe(1000);
    const { p50, p90, p99, max } = h.figures();
    expect(p50).toBeCloseTo(50, 1);
    expect(p90).toBeCloseTo(90, 1);
    expect(p99).toBeCloseTo(99, 1);
    expect(max).toBeCloseTo(100, 1);
  });

  it('keeps sub-millisecond latencies apart', () => {
    const h = new LatencyHistogram();
    [0.21, 0.22, 0.35, 0.9].forEach((ms) => h.record(ms));
    expect(h.figures()).toEqual({ p50: 0.22, p90: 0.9, p99: 0.9, max: 0.9 });
  });

  it('gives zeros when nothing was recorded', () => {
    expect(new LatencyHistogram().figures()).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });
});
