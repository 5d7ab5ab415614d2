import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  computeTimeToSmoke,
  type Incident,
  parseIncidentsCsv,
  parseIncidentTime,
} from '../../src/domain/time-to-smoke';

const minute = 60_000;
const day = 86_400_000;
const example = readFileSync(resolve(__dirname, '..', '..', 'examples', 'incidents.csv'), 'utf8');
const releaseStart = Date.parse('2026-11-26T12:00:00Z');
const base = {
  method: 'twice-mean' as const,
  percentile: 95,
  windowMs: 180 * day,
  floorMs: 30 * minute,
  ceilingMs: 12 * 60 * minute,
  now: releaseStart,
};

const incident = (id: string, deployed: string, delayMinutes: number, line = 2): Incident => {
  const deployedAt = Date.parse(deployed);
  return { id, deployedAt, detectedAt: deployedAt + delayMinutes * minute, line };
};

describe('parseIncidentsCsv', () => {
  it('reads every row of the example history', () => {
    const { incidents, problems, warnings } = parseIncidentsCsv(example);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
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
      'line 3 (B): deployed_at "yesterday" is not an ISO 8601 time: write it as 2026-03-01T12:00:00Z (date, T, time, then Z for UTC or an offset such as +09:00)',
      'line 4 (C): detected_at is before deployed_at',
      'line 6 (D): detected_at is empty: write it as 2026-03-01T12:00:00Z (date, T, time, then Z for UTC or an offset such as +09:00)',
    ]);
  });

  const rows = [
    'incident,deployed_at,detected_at,severity,summary',
    'A,2026-10-01T10:00:00Z,2026-10-01T10:30:00Z,1,first',
    'B,2026-10-02T10:00:00Z,2026-10-02T11:00:00Z,2,second',
    'C,2026-10-03T10:00:00+09:00,2026-10-03T10:45:00+09:00,2,"third, with a comma"',
  ];

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR only (old Mac)', '\r'],
  ])('reads %s line endings alike, with the same line numbers', (_name, eol) => {
    const { incidents, problems, warnings } = parseIncidentsCsv(`${rows.join(eol)}${eol}`);
    expect({ problems, warnings }).toEqual({ problems: [], warnings: [] });
    expect(incidents.map((i) => [i.id, i.line, (i.detectedAt - i.deployedAt) / minute])).toEqual([
      ['A', 2, 30],
      ['B', 3, 60],
      ['C', 4, 45],
    ]);
  });

  it('reads the example the same with CRLF or CR line endings and a byte-order mark', () => {
    const lf = parseIncidentsCsv(example);
    expect(parseIncidentsCsv(`\uFEFF${example.replace(/\n/g, '\r\n')}`)).toEqual(lf);
    expect(parseIncidentsCsv(example.replace(/\n/g, '\r'))).toEqual(lf);
  });

  it('reads a mix of line endings, blank lines included, and numbers lines as an editor does', () => {
    const { incidents } = parseIncidentsCsv(`${rows[0]}\r\n${rows[1]}\r\r${rows[2]}\n${rows[3]}`);
    expect(incidents.map((i) => [i.id, i.line])).toEqual([
      ['A', 2],
      ['B', 4],
      ['C', 5],
    ]);
  });

  it('refuses a time without a zone, naming the line and the expected form', () => {
    const { incidents, problems } = parseIncidentsCsv(
      `${rows[0]}\nA,2026-10-01T10:00:00,2026-10-01T10:30:00Z,1,local time\n`,
    );
    expect(incidents).toEqual([]);
    expect(problems).toEqual([
      'line 2 (A): deployed_at "2026-10-01T10:00:00" has no time zone, so it would be read in this machine\'s local time: add Z for UTC or the offset it was written in, e.g. 2026-10-01T10:00:00Z or 2026-10-01T10:00:00+09:00',
    ]);
  });

  it.each([
    ['a date without a time', '2026-10-01'],
    ['a US date', '10/01/2026 10:00'],
    ['a space for the T', '2026-10-01 10:00:00Z'],
    ['an RFC 2822 date', 'Thu, 01 Oct 2026 10:00:00 GMT'],
    ['epoch seconds', '1790848800'],
    ['a basic-form offset', '2026-10-01T10:00:00+0900'],
  ])('refuses %s as not ISO 8601', (_name, time) => {
    expect(parseIncidentTime(time)).toBe(
      `${JSON.stringify(time)} is not an ISO 8601 time: write it as 2026-03-01T12:00:00Z (date, T, time, then Z for UTC or an offset such as +09:00)`,
    );
  });

  it.each([
    '2026-02-30T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-10-01T24:00:00Z',
    '2026-10-01T10:60:00Z',
    '2026-10-01T10:00:00+24:00',
  ])('refuses %s, which is not in the calendar', (time) => {
    expect(parseIncidentTime(time)).toMatch(/ is not a time of the calendar: write it as 2026-03-01T12:00:00Z/);
  });

  it.each([
    ['2026-10-01T10:00Z', '2026-10-01T10:00:00.000Z'],
    ['2026-10-01T10:00:00.123456Z', '2026-10-01T10:00:00.123Z'],
    ['2026-10-01t10:00:00z', '2026-10-01T10:00:00.000Z'],
    ['2026-10-01T19:00:00+09:00', '2026-10-01T10:00:00.000Z'],
    ['2026-10-01T05:30:00-04:30', '2026-10-01T10:00:00.000Z'],
    ['2028-02-29T10:00:00Z', '2028-02-29T10:00:00.000Z'],
    [' 2026-10-01T10:00:00Z ', '2026-10-01T10:00:00.000Z'],
  ])('reads %s as %s', (time, iso) => {
    expect(new Date(parseIncidentTime(time) as number).toISOString()).toBe(iso);
  });

  it('refuses a quote that does not close on its line', () => {
    const { problems } = parseIncidentsCsv(
      `${rows[0]}\nA,2026-10-01T10:00:00Z,2026-10-01T10:30:00Z,1,"a summary\nover two lines"\n`,
    );
    expect(problems[0]).toBe(
      'line 2 (A): a quoted cell does not close on this line: close its quote ("), write a quote inside a cell as "", and keep each incident on one line',
    );
  });

  it('warns of a history with a header and no incident, which would leave every bake at the floor', () => {
    for (const text of [`${rows[0]}\n`, `${rows[0]}\r\r\r`, rows[0]]) {
      expect(parseIncidentsCsv(text)).toEqual({
        incidents: [],
        problems: [],
        warnings: [
          'no incident below the header: time-to-smoke has nothing to learn from, so every bake is the floor; add incidents, or name no incidents file',
        ],
      });
    }
  });

  it('warns of an incident listed twice', () => {
    const { incidents, warnings } = parseIncidentsCsv(`${rows.join('\n')}\n${rows[2]}\n`);
    expect(incidents).toHaveLength(4);
    expect(warnings).toEqual([
      'line 5 (B): incident "B" is also on line 3, so it counts twice: remove one of them if it is the same incident',
    ]);
  });

  it('lists at most 20 incidents listed twice, and counts the rest', () => {
    const { incidents, warnings } = parseIncidentsCsv(`${rows.join('\n')}\n${Array(5000).fill(rows[2]).join('\n')}\n`);
    expect(incidents).toHaveLength(5003);
    expect(warnings).toHaveLength(21);
    expect(warnings[20]).toBe('and 4980 more incidents listed twice');
  });

  it('refuses a header naming a column twice, and never quotes the header', () => {
    expect(parseIncidentsCsv('incident,deployed_at,detected_at,deployed_at\n').problems).toEqual([
      'line 1: the header names deployed_at more than once: keep one column of each',
    ]);
    expect(parseIncidentsCsv('SECRET=hunter2\0PATH=/bin\n').problems).toEqual([
      'line 1: the header lacks incident, deployed_at, detected_at: the file looks like UTF-16 or binary, not CSV; save the history as UTF-8 CSV',
    ]);
    expect(
      parseIncidentsCsv(Buffer.from('\uFEFFincident,deployed_at,detected_at\n', 'utf16le').toString('utf8'))
        .problems[0],
    ).toMatch(/: the file looks like UTF-16 or binary/);
    expect(parseIncidentsCsv('incident;deployed_at;detected_at\n').problems).toEqual([
      'line 1: the header lacks incident, deployed_at, detected_at: its columns are separated by semicolons or tabs; separate them by commas',
    ]);
    expect(parseIncidentsCsv('incident\tdeployed_at\tdetected_at\n').problems[0]).toMatch(
      /separated by semicolons or tabs/,
    );
    expect(parseIncidentsCsv('').problems).toEqual(['line 1: the header lacks incident, deployed_at, detected_at']);
  });

  it('lists at most 20 unusable rows and counts the rest', () => {
    const bad = Array.from({ length: 25 }, (_, i) => `X${i},soon,later,1,x`);
    const { problems } = parseIncidentsCsv([rows[0], ...bad].join('\n'));
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe('and 5 more rows that cannot be used');
  });

  it('quotes a long incident id as an excerpt', () => {
    const { problems } = parseIncidentsCsv(`${rows[0]}\n${'I'.repeat(5_000)},soon,2026-10-01T10:30:00Z\n`);
    expect(problems[0].length).toBeLessThan(300);
  });

  it('names the columns a header lacks', () => {
    expect(parseIncidentsCsv('id,when\n1,2\n').problems).toEqual([
      'line 1: the header lacks incident, deployed_at, detected_at',
    ]);
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
    [
      'raised to the floor',
      { ...base, method: 'percentile' as const, percentile: 10, floorMs: 20 * minute },
      20 * minute,
      6,
      'floor',
    ],
  ])('%s', (_name, options, ms, used, clamped) => {
    const result = computeTimeToSmoke(incidents, options);
    expect(result).toMatchObject({ ms, used, clamped });
  });

  it('says how the figure was derived', () => {
    expect(computeTimeToSmoke(incidents, base).derivation).toBe(
      '2 x mean detection delay 1h25m over 6 incidents in the last 180d = 2h50m',
    );
    expect(computeTimeToSmoke(incidents, { ...base, ceilingMs: 2 * 60 * minute }).derivation).toContain(
      'lowered to the ceiling 2h',
    );
  });

  it('falls back to the floor, and says so, with no incident in the window', () => {
    const old = [incident('X', '2020-01-01T00:00:00Z', 600)];
    expect(computeTimeToSmoke(old, base)).toEqual({
      ms: 30 * minute,
      used: 0,
      method: 'default',
      derivation: 'no incident in the last 180d: the floor 30m',
    });
    expect(computeTimeToSmoke([], base).method).toBe('default');
  });

  it('ignores incidents deployed after the release starts', () => {
    const later = [incident('F', '2026-12-01T00:00:00Z', 600), incident('G', '2026-11-01T00:00:00Z', 60)];
    expect(computeTimeToSmoke(later, base)).toMatchObject({ ms: 120 * minute, used: 1 });
  });
});
