import {
  addMeasurement,
  concludeBake,
  emptyTally,
  fillQuery,
  judgeMetric,
  type Measurement,
} from '../../src/domain/bake-analysis';

const limits = { failureLimit: 1, inconclusiveLimit: 1 };
const m = (outcome: Measurement['outcome'], detail = 'x'): Measurement => ({
  at: '2026-11-26T10:00:00.000Z',
  outcome,
  readings: [{ name: 'error-rate', outcome, detail }],
});

describe('bake analysis', () => {
  it('judges a metric by its pass and fail conditions; between them, or without data, it is inconclusive', () => {
    const pass = { op: '<', value: 0.01 } as const;
    const fail = { op: '>=', value: 0.05 } as const;
    expect(judgeMetric(0.001, pass, fail)).toBe('passed');
    expect(judgeMetric(0.2, pass, fail)).toBe('failed');
    expect(judgeMetric(0.03, pass, fail)).toBe('inconclusive');
    expect(judgeMetric(undefined, pass, fail)).toBe('inconclusive');
    expect(judgeMetric(NaN, pass)).toBe('inconclusive');
    // Without a fail condition, every value that does not pass fails.
    expect(judgeMetric(0.03, pass)).toBe('failed');
  });

  it('fails at once when failures exceed the limit, and keeps counts rather than samples', () => {
    let tally = emptyTally;
    tally = addMeasurement(tally, m('passed'), limits);
    tally = addMeasurement(tally, m('failed', '0.2, fails >= 0.05'), limits);
    expect(tally.verdict).toBe('running');
    tally = addMeasurement(tally, m('failed', '0.3, fails >= 0.05'), limits);
    expect(tally).toMatchObject({ verdict: 'failed', measurements: 3, passed: 1, failed: 2 });
    expect(tally.reason).toBe('2 failed measurements (limit 1): error-rate: 0.3, fails >= 0.05');
    expect(tally.deciding?.readings[0].detail).toBe('0.3, fails >= 0.05');
    // A decided tally does not change.
    expect(addMeasurement(tally, m('passed'), limits)).toBe(tally);
  });

  it('is inconclusive when data is missing more often than tolerated', () => {
    const tally = [m('inconclusive'), m('inconclusive')].reduce((t, x) => addMeasurement(t, x, limits), emptyTally);
    expect(tally.verdict).toBe('inconclusive');
    expect(tally.reason).toMatch(/^2 inconclusive measurements \(limit 1\)/);
  });

  it('never passes a bake with too few data points or too little traffic', () => {
    const two = [m('passed'), m('passed')].reduce((t, x) => addMeasurement(t, x, limits), emptyTally);
    expect(concludeBake(two, { minSamples: 3 })).toMatchObject({
      verdict: 'inconclusive',
      reason: 'too few data points: 2 passing measurements, 3 needed',
    });
    const three = addMeasurement(two, m('passed'), limits);
    const minRequests = { query: 'q', min: 100 };
    expect(concludeBake(three, { minSamples: 3, minRequests }, 12)).toMatchObject({
      verdict: 'inconclusive',
      reason: 'too little traffic: 12 requests during the bake, 100 needed',
      requests: 12,
    });
    expect(concludeBake(three, { minSamples: 3, minRequests }, undefined).verdict).toBe('inconclusive');
    expect(concludeBake(three, { minSamples: 3, minRequests }, 250)).toMatchObject({
      verdict: 'passed',
      requests: 250,
    });
  });

  it('fills placeholders in queries and leaves unknown ones for Prometheus to reject', () => {
    expect(
      fillQuery('sum(increase(x{region="{{region}}"}[{{ window }}])) {{other}}', { region: 'eu-west', window: '300s' }),
    ).toBe('sum(increase(x{region="eu-west"}[300s])) {{other}}');
  });
});
