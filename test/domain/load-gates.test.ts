import { formatMs, judgeLoad } from '../../src/domain/load-gates';
import type { LoadBaseline, LoadFigures } from '../../src/domain/load-report';

const figures = (over: Partial<LoadFigures> = {}, latencyMs: Partial<LoadFigures['latencyMs']> = {}): LoadFigures => ({
  requests: 6000,
  throughputRps: 199.5,
  targetRps: 200,
  errorRate: 0.002,
  latencyMs: { p50: 40, p90: 120, p99: 412, max: 900, ...latencyMs },
  statuses: { '2xx': 5988, '5xx': 12 },
  transportErrors: 0,
  durationMs: 30_000,
  ...over,
});

const baseline = (
  latencyMs: Partial<LoadFigures['latencyMs']> = {},
  over: Partial<LoadFigures> = {},
): LoadBaseline => ({
  releaseId: 'release-shop-api-2.3.9',
  version: '2.3.9',
  figures: figures(over, { p50: 38, p90: 110, p99: 300, max: 850, ...latencyMs }),
});

describe('judgeLoad', () => {
  it('applies the absolute thresholds and says what was measured against what', () => {
    const verdict = judgeLoad(figures(), { errorRate: 0.01, p99: 400 });
    expect(verdict.gates).toEqual([
      { gate: 'errorRate', passed: true, detail: 'error rate 0.2%, limit 1%' },
      { gate: 'p99', passed: false, detail: 'p99 412ms, limit 400ms' },
    ]);
    expect(verdict.passed).toBe(false);
    expect(verdict.notes).toEqual([]);
  });

  it('fails an error rate above its limit', () => {
    const verdict = judgeLoad(figures({ errorRate: 0.025 }), { errorRate: 0.01 });
    expect(verdict).toMatchObject({
      passed: false,
      gates: [{ gate: 'errorRate', passed: false, detail: 'error rate 2.5%, limit 1%' }],
    });
  });

  it('judges regression against the baseline, in percent of its figures', () => {
    const verdict = judgeLoad(figures(), { p99: 500, regression: { p99: 0.2, p50: 0.2 } }, baseline());
    expect(verdict.gates).toEqual([
      { gate: 'p99', passed: true, detail: 'p99 412ms, limit 500ms' },
      { gate: 'regression p50', passed: true, detail: 'p50 40ms vs 38ms in 2.3.9 (+5.3%), limit +20%' },
      { gate: 'regression p99', passed: false, detail: 'p99 412ms vs 300ms in 2.3.9 (+37%), limit +20%' },
    ]);
    expect(verdict.passed).toBe(false);
    expect(verdict.notes).toEqual([]);
  });

  it('passes a release that got faster, and one exactly at the limit', () => {
    const verdict = judgeLoad(figures({}, { p90: 99, max: 1020 }), { regression: { p90: 0.1, max: 0.2 } }, baseline());
    expect(verdict.gates).toEqual([
      { gate: 'regression p90', passed: true, detail: 'p90 99ms vs 110ms in 2.3.9 (-10%), limit +10%' },
      { gate: 'regression max', passed: true, detail: 'max 1020ms vs 850ms in 2.3.9 (+20%), limit +20%' },
    ]);
    expect(verdict.passed).toBe(true);
  });

  it('without a baseline applies only the absolute thresholds and says so', () => {
    const verdict = judgeLoad(figures(), { p99: 500, regression: { p99: 0.2 } });
    expect(verdict.gates).toEqual([{ gate: 'p99', passed: true, detail: 'p99 412ms, limit 500ms' }]);
    expect(verdict.passed).toBe(true);
    expect(verdict.notes).toEqual([
      'no baseline: no earlier successful release of this app ran a load test in this environment at this rate, so the regression limits (p99 +20%) were not applied; only the absolute thresholds were',
    ]);
  });

  it('does not divide by a baseline latency of zero', () => {
    const verdict = judgeLoad(figures(), { regression: { p50: 0.2, p99: 0.2 } }, baseline({ p50: 0 }));
    expect(verdict.gates.map((g) => g.gate)).toEqual(['regression p99']);
    expect(verdict.notes).toEqual([
      'regression p50 not judged: the baseline 2.3.9 recorded p50 0ms, so there is nothing to compare with',
    ]);
    expect(JSON.stringify(verdict)).not.toMatch(/Infinity|NaN/);
  });

  it('passes with a note when no threshold is set', () => {
    expect(judgeLoad(figures({}, { p99: 5000 }), {}, baseline())).toEqual({
      gates: [],
      passed: true,
      notes: ['no load thresholds are set: nothing was judged, the figures are for reading only'],
    });
  });

  it('never passes a test that measured nothing', () => {
    const empty = figures(
      { requests: 0, errorRate: 0, throughputRps: 0, statuses: {} },
      { p50: 0, p90: 0, p99: 0, max: 0 },
    );
    const verdict = judgeLoad(empty, {});
    expect(verdict.passed).toBe(false);
    expect(verdict.gates).toEqual([
      { gate: 'requests', passed: false, detail: 'no request was answered or failed: the load test measured nothing' },
    ]);
  });

  it('notes an endpoint that did not keep up with the asked rate, and a baseline run at another rate', () => {
    const verdict = judgeLoad(
      figures({ throughputRps: 151.2 }),
      { regression: { p99: 0.5 } },
      baseline({}, { targetRps: 100 }),
    );
    expect(verdict.passed).toBe(true);
    expect(verdict.notes).toEqual([
      'the baseline 2.3.9 ran at 100 requests/s and this test at 200: latencies are compared across different loads',
      'the endpoint answered 151 of the 200 requests/s asked: it did not keep up, so the latencies describe a saturated service',
    ]);
  });
});

describe('judgeLoad, open-model figures', () => {
  it('notes requests that went out late, waiting for a busy connection', () => {
    const verdict = judgeLoad(
      figures({ lateRequests: 37, serviceLatencyMs: { p50: 30, p90: 90, p99: 200, max: 500 } }),
      {},
    );
    expect(verdict.notes).toContain(
      '37 of 6000 requests went out after their intended start because every connection was busy with an earlier one; their latency counts the wait (give more connections if the service takes more requests at once)',
    );
    expect(judgeLoad(figures({ lateRequests: 0 }), {}).notes.join()).not.toContain('intended start');
    expect(judgeLoad(figures({ lateRequests: 900, unsentRequests: 120 }), {}).notes).toContain(
      "120 requests of the schedule were never sent: every connection was still busy when the test's time ran out",
    );
  });

  it('notes a baseline measured before latency ran from the intended start', () => {
    const now = figures({ lateRequests: 0, serviceLatencyMs: { p50: 38, p90: 110, p99: 300, max: 800 } });
    const before = judgeLoad(now, { regression: { p99: 0.5 } }, baseline()).notes;
    expect(before).toEqual([
      "the baseline 2.3.9 measured latency from each request's write (before open-model pacing), this test from each request's intended start, which adds any wait for a free connection: compare with that in mind",
    ]);
    const alike = baseline({}, { lateRequests: 0, serviceLatencyMs: { p50: 38, p90: 110, p99: 300, max: 800 } });
    expect(judgeLoad(now, { regression: { p99: 0.5 } }, alike).notes).toEqual([]);
  });
});

describe('formatMs', () => {
  it.each([
    [412.4, '412ms'],
    [12.46, '12.5ms'],
    [2.149, '2.1ms'],
    [0.4213, '0.42ms'],
    [0, '0ms'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});
