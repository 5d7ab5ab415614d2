import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { computeTimeToSmoke, type Incident, parseIncidentsCsv } from '../../src/domain/time-to-smoke';

const minute = 60_000;
const day = 86_400_000;
const example = readFileSync(resolve(__dirname, '..', '..', 'examples', 'incidents.csv'), 'utf8');
const releaseStart = Date.parse('2026-11-26T12:00:00Z');
const base = { method: 'twice-mean' as const, percentile: 95, windowMs: 180 * day, floorMs: 30 * minute, ceilingMs: 12 * 60 * minute, now: releaseStart };

const incident = (id: string, deployed: string, delayMinutes: number, line = 2): Incident => {
  const deployedAt = Date.parse(deployed);
  return { id, deployedAt, detectedAt: deployedAt + delayMinutes * minute, line };
};

describe('parseIncidentsCsv', () => {
  it('reads every row of the example history', () => {
    const { incidents, problems } = parseIncidentsCsv(example);
    expect(problems).toEqual([]);
    expect(incidents).toHaveLength(8);
    expect(incidents[0]).toMatchObject({ id: 'INC-2031', line: 2, detectedAt: incidents[0].deployedAt + 41 * minute });
  });

  it('reports malformed rows with their line numbers and keeps the good ones', () => {
    const csv = [
      'incident,deployed_at,detected_at,severity,summary',
      'A,2026-10-01T10:00:00Z,2026-10-01T10:30:00Z,1,"Checkout fails, sometimes"',
      'B,yesterday,2026-10-02T10:30:00Z,1,bad time',
      'C,2026-10-03T10:00:00Z,2026-10-03T09:00:00Z,2,detected before deployed',
      '',
      'D,2026-10-04T10:00:00Z,,3,no detection time',
    ].join('\n');
    const { incidents, problems } = parseIncidentsCsv(csv);
    expect(incidents.map((i) => i.id)).toEqual(['A']);
    expect(problems).toEqual([
      'line 3 (B): deployed_at is not an ISO time',
      'line 4 (C): detected_at is before deployed_at',
      'line 6 (D): detected_at is not an ISO time',
    ]);
  });

  it('names the columns a header lacks', () => {
    expect(parseIncidentsCsv('id,when\n1,2\n').problems).toEqual(['line 1: the header lacks incident, deployed_at, detected_at']);
  });
});

describe('computeTimeToSmoke', () => {
  const { incidents } = parseIncidentsCsv(example);

  it.each([
    // Within 180 days of 2026-11-26 lie the 6 incidents from June on: delays 18, 210, 17, 85, 35, 145 minutes.
    ['twice the mean over the window', base, 170 * minute, 6, undefined],
    ['twice the mean over a year', { ...base, windowMs: 365 * day }, 164 * minute, 8, undefined],
    ['p95 by nearest rank', { ...base, method: 'percentile' as const }, 210 * minute, 6, undefined],
    ['p50 by nearest rank', { ...base, method: 'percentile' as const, percentile: 50 }, 35 * minute, 6, undefined],
    ['clamped to the ceiling', { ...base, ceilingMs: 2 * 60 * minute }, 120 * minute, 6, 'ceiling'],
    ['raised to the floor', { ...base, method: 'percentile' as const, percentile: 10, floorMs: 20 * minute }, 20 * minute, 6, 'floor'],
  ])('%s', (_name, options, ms, used, clamped) => {
    const result = computeTimeToSmoke(incidents, options);
    expect(result).toMatchObject({ ms, used, clamped });
  });

  it('says how the figure was derived', () => {
    expect(computeTimeToSmoke(incidents, base).derivation).toBe('2 x mean detection delay 1h25m over 6 incidents in the last 180d = 2h50m');
    expect(computeTimeToSmoke(incidents, { ...base, ceilingMs: 2 * 60 * minute }).derivation).toContain('lowered to the ceiling 2h');
  });

  it('falls back to the floor, and says so, with no incident in the window', () => {
    const old = [incident('X', '2020-01-01T00:00:00Z', 600)];
    expect(computeTimeToSmoke(old, base)).toEqual({ ms: 30 * minute, used: 0, method: 'default', derivation: 'no incident in the last 180d: the floor 30m' });
    expect(computeTimeToSmoke([], base).method).toBe('default');
  });

  it('ignores incidents deployed after the release starts', () => {
    const later = [incident('F', '2026-12-01T00:00:00Z', 600), incident('G', '2026-11-01T00:00:00Z', 60)];
    expect(computeTimeToSmoke(later, base)).toMatchObject({ ms: 120 * minute, used: 1 });
  });
});
