import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRelease, releaseTimeToSmoke } from '../../src/infra/release-files/release-file';
import { runCli } from '../../src/client/main';
import { InvalidInputError } from '../../src/domain/errors';

// The incident history as validate, plan and start read it: refused with line numbers, warned of, never silent.
const examplesDir = join(__dirname, '../../examples');
const exampleCsv = readFileSync(join(examplesDir, 'incidents.csv'), 'utf8');
const releaseStart = Date.parse('2026-11-26T12:00:00Z');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A copy of the examples whose incidents.csv holds `csv`; returns the spec's path. */
function specWithIncidents(csv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-incidents-'));
  tempDirs.push(dir);
  cpSync(examplesDir, dir, { recursive: true });
  writeFileSync(join(dir, 'incidents.csv'), csv);
  return join(dir, 'release.yaml');
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  return { code, stdout, stderr };
}

function rejectionOf(file: string): InvalidInputError {
  let thrown: unknown;
  try {
    loadRelease(file);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

describe('the incident history of a release', () => {
  it('reads the example history as before: 8 incidents, no warning', () => {
    const release = loadRelease(join(examplesDir, 'release.yaml'));
    expect(release.incidents).toHaveLength(8);
    const { timeToSmoke, warnings } = releaseTimeToSmoke(release, releaseStart);
    expect(warnings).toEqual([]);
    expect(timeToSmoke).toMatchObject({ used: 6, method: 'twice-mean' });
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR only (old Mac)', '\r'],
  ])('reads a history with %s line endings as the example, not as no incident', (_name, eol) => {
    const example = releaseTimeToSmoke(loadRelease(join(examplesDir, 'release.yaml')), releaseStart);
    const release = loadRelease(specWithIncidents(exampleCsv.replace(/\n/g, eol)));
    expect(release.warnings).toEqual([]);
    expect(releaseTimeToSmoke(release, releaseStart)).toEqual(example);
  });

  it('is refused by validate when a time has no zone or is not ISO 8601, naming the file, line and the expected form', async () => {
    const csv = exampleCsv
      .replace('2026-05-19T13:20:00Z', '2026-05-19T13:20:00')
      .replace('2026-06-02T09:28:00Z', '06/02/2026 09:28');
    const file = specWithIncidents(csv);
    expect(rejectionOf(file).problems).toEqual([
      'spec.rollout.timeToSmoke.incidents: "./incidents.csv" line 3 (INC-2044): deployed_at "2026-05-19T13:20:00" has no time zone, so it would be read in this machine\'s local time: add Z for UTC or the offset it was written in, e.g. 2026-05-19T13:20:00Z or 2026-05-19T13:20:00+09:00',
      'spec.rollout.timeToSmoke.incidents: "./incidents.csv" line 4 (INC-2050): detected_at "06/02/2026 09:28" is not an ISO 8601 time: write it as 2026-03-01T12:00:00Z (date, T, time, then Z for UTC or an offset such as +09:00)',
    ]);
    const validate = await cli('validate', '-f', file);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain('line 3 (INC-2044): deployed_at "2026-05-19T13:20:00" has no time zone');
    const plan = await cli('plan', '-f', file);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toBe('');
  });

  it('is refused by validate when a row cannot be used (detected before deployed), never left out silently', async () => {
    const file = specWithIncidents(exampleCsv.replace('2026-05-04T08:41:00Z', '2026-05-04T07:41:00Z'));
    expect(rejectionOf(file).problems).toEqual([
      'spec.rollout.timeToSmoke.incidents: "./incidents.csv" line 2 (INC-2031): detected_at is before deployed_at',
    ]);
    expect((await cli('validate', '-f', file)).code).toBe(2);
  });

  it('is refused when it is not a history at all, without quoting it', async () => {
    for (const [csv, hint] of [
      ['', ''],
      ['SECRET=hunter2\n', ''],
      [
        'incident;deployed_at;detected_at\nA;2026-05-04T08:00:00Z;2026-05-04T08:41:00Z\n',
        ': its columns are separated by semicolons or tabs; separate them by commas',
      ],
    ]) {
      const err = rejectionOf(specWithIncidents(csv));
      expect(err.problems).toEqual([
        `spec.rollout.timeToSmoke.incidents: "./incidents.csv" line 1: the header lacks incident, deployed_at, detected_at${hint}`,
      ]);
      expect(err.problems.join('\n')).not.toContain('hunter2');
    }
  });

  it('warns, in validate and plan, of a history with no incident: every bake is the floor', async () => {
    const file = specWithIncidents('incident,deployed_at,detected_at,severity,summary\r\r');
    const warning =
      'warning: spec.rollout.timeToSmoke.incidents: "./incidents.csv" no incident below the header: time-to-smoke has nothing to learn from, so every bake is the floor; add incidents, or name no incidents file\n';
    const validate = await cli('validate', '-f', file);
    expect(validate.code).toBe(0);
    expect(validate.stderr).toContain(warning);
    const plan = await cli('plan', '-f', file);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toContain(warning);
    expect(plan.stdout).toContain('time-to-smoke 30m: no incident in the last 180d: the floor 30m');
  });

  it('plan shows the time-to-smoke a CR-only history gives, as the LF one', async () => {
    const lf = await cli('plan', '-f', join(examplesDir, 'release.yaml'));
    const cr = await cli('plan', '-f', specWithIncidents(exampleCsv.replace(/\n/g, '\r')));
    expect(cr.code).toBe(0);
    const line = (out: string) => out.split('\n').find((l) => l.startsWith('time-to-smoke '));
    expect(line(cr.stdout)).toBe(line(lf.stdout));
    expect(line(cr.stdout)).toMatch(/over \d+ incidents in the last 180d/);
  });

  it('warns of incidents deployed after the release starts, which do not count', () => {
    const release = loadRelease(
      specWithIncidents(`${exampleCsv}INC-9999,2027-11-01T10:00:00Z,2027-11-01T11:00:00Z,1,next year\n`),
    );
    expect(releaseTimeToSmoke(release, releaseStart).warnings).toEqual([
      'spec.rollout.timeToSmoke.incidents: "./incidents.csv" line 10: 1 incident was deployed after now and does not count: check the year and the zone of its times',
    ]);
  });

  it('reads and checks the history when a release was loaded without it', () => {
    const release = loadRelease(specWithIncidents(exampleCsv));
    writeFileSync(
      join(release.file, '..', 'incidents.csv'),
      'incident,deployed_at,detected_at\nA,2026-05-04 08:00,2026-05-04T08:41:00Z\n',
    );
    const { incidents: _read, ...withoutHistory } = release;
    expect(() => releaseTimeToSmoke(withoutHistory, releaseStart)).toThrow(InvalidInputError);
    expect(() => releaseTimeToSmoke(withoutHistory, releaseStart)).toThrow(
      '"./incidents.csv" is not a usable incident history',
    );
  });
});
