import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkDuration, maxDurationMs, maxHistoryMs, maxTimerMs, parseDuration } from '../../src/domain/duration';
import { integrationSuiteSchema } from '../../src/domain/integration-checks';
import { releaseSpecSchema } from '../../src/domain/release-spec';
import { buildRolloutPlan } from '../../src/domain/rollout-plan';
import { parseYaml } from '../../src/domain/yaml-document';
import { formatZodIssues } from '../../src/domain/zod-issues';

const exampleFile = join(__dirname, '../../examples/release.yaml');
const exampleText = readFileSync(exampleFile, 'utf8');
const suiteText = readFileSync(join(__dirname, '../../examples/checks/integration.yaml'), 'utf8');

type Path = (string | number)[];

/** The example spec as data, with `value` set at `path`. */
function specWith(path: Path, value: unknown): Record<string, unknown> {
  const raw = parseYaml(exampleText, exampleFile) as Record<string, unknown>;
  let node = raw as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]] = value;
  return raw;
}

function problemsOf(
  raw: unknown,
  schema: typeof releaseSpecSchema | typeof integrationSuiteSchema = releaseSpecSchema,
): string[] {
  const parsed = schema.safeParse(raw, { reportInput: true });
  return parsed.success ? [] : formatZodIssues(parsed.error, '', schema);
}

const day = 86_400_000;
const huge = `${'9'.repeat(400)}`;

describe('durations are finite numbers with a bound', () => {
  it('never parses to a number that is not finite or not whole (property)', () => {
    const text = fc
      .array(fc.constantFrom('0', '1', '9', '.', 'ms', 's', 'm', 'h', 'd', '99999999999999999999'), { maxLength: 40 })
      .map((p) => p.join(''));
    fc.assert(
      fc.property(text, (t) => {
        const ms = parseDuration(t);
        if (ms !== undefined) expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
        const checked = checkDuration(t, maxDurationMs);
        if (typeof checked === 'number') expect(checked).toBeLessThanOrEqual(maxDurationMs);
        else expect(checked.length).toBeLessThan(250);
      }),
      { seed: 12, numRuns: 3_000 },
    );
  });

  it.each([`${huge}d`, `${huge}ms`, '1e400d', `1${'0'.repeat(310)}s`])(
    'refuses duration %# as too long, not as Infinity',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
      expect(checkDuration(text, maxDurationMs)).toMatch(
        /^(at most 30d: give a shorter duration|expected a duration such as)/,
      );
    },
  );

  it('quotes at most an excerpt of a long value', () => {
    expect(checkDuration(`${'9'.repeat(1_000_000)}d`, maxDurationMs)).toBe(
      `at most 30d: give a shorter duration, got "${'9'.repeat(80)}…" (1000001 characters)`,
    );
  });

  const specDurations: [string, Path, number][] = [
    ['canary soak', ['spec', 'rollout', 'canarySoak'], maxDurationMs],
    ['time-to-smoke floor', ['spec', 'rollout', 'timeToSmoke', 'floor'], maxDurationMs],
    ['time-to-smoke ceiling', ['spec', 'rollout', 'timeToSmoke', 'ceiling'], maxDurationMs],
    ['time-to-smoke window', ['spec', 'rollout', 'timeToSmoke', 'window'], maxHistoryMs],
    ['load duration', ['spec', 'validation', 'load', 'duration'], maxTimerMs],
    ['load p99 threshold', ['spec', 'validation', 'load', 'thresholds', 'p99'], maxTimerMs],
    ['replication timeout', ['spec', 'spec', 'image', 'replication', 'timeout'].slice(1), maxTimerMs],
    ['analysis interval', ['spec', 'validation', 'analysis', 'interval'], maxDurationMs],
    ['probe latency', ['spec', 'validation', 'analysis', 'probes', 0, 'maxLatency'], maxTimerMs],
  ];
  it.each(specDurations)('bounds the %s, naming the field and the bound', (_name, path, max) => {
    const field = path
      .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
      .join('')
      .slice(1)
      .replace(/\.\[/g, '[');
    const bound = max === maxHistoryMs ? '3650d' : max === maxTimerMs ? '24d (the longest a timer can wait)' : '30d';
    for (const text of [`${huge}d`, `${max / day + 1}d`]) {
      expect(problemsOf(specWith(path, text))).toEqual([
        `${field}: at most ${bound}: give a shorter duration, got ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}${text.length > 80 ? ` (${text.length} characters)` : ''}`,
      ]);
    }
    expect(problemsOf(specWith(path, `${max / day}d`))).toEqual(
      max === maxHistoryMs || path.includes('canarySoak') || path.includes('interval') || path.includes('floor')
        ? expect.any(Array)
        : [],
    );
  });

  it('bounds the bake of an explicit wave, and every accepted spec plans finite bakes', () => {
    const waves = (bake: string) => [
      { regions: ['us-east-canary'], bake },
      ['us-west', 'us-east', 'eu-west', 'ap-northeast-2', 'me-central', 'sa-east', 'ap-south'],
    ];
    expect(problemsOf(specWith(['spec', 'rollout', 'waves'], waves(`${huge}h`)))).toEqual([
      expect.stringMatching(/^spec\.rollout\.waves\[0\]\.bake: at most 30d: give a shorter duration/),
    ]);
    const spec = releaseSpecSchema.parse(specWith(['spec', 'rollout', 'waves'], waves('30d')));
    for (const wave of buildRolloutPlan(spec, { bakeMs: spec.spec.rollout.timeToSmoke.floor }).waves)
      expect(Number.isFinite(wave.bakeMs)).toBe(true);
  });

  it.each([
    [
      'http check latency',
      { name: 'a', request: { path: '/' }, expect: { maxLatency: `${huge}s` } },
      'checks[0].expect.maxLatency',
    ],
    ['command check timeout', { name: 'a', kind: 'command', command: ['true'], timeout: '25d' }, 'checks[0].timeout'],
    ['job check timeout', { name: 'a', kind: 'job', job: { image: 'busybox' }, timeout: '25d' }, 'checks[0].timeout'],
  ])('bounds the %s by what a Node timer can wait', (_name, check, field) => {
    const [problem] = problemsOf({ checks: [check] }, integrationSuiteSchema);
    expect(problem).toMatch(
      new RegExp(
        `^${field.replace(/[.[\]]/g, '\\$&')}: at most 24d \\(the longest a timer can wait\\): give a shorter duration, got "`,
      ),
    );
    expect(problemsOf(parseYaml(suiteText, 'suite.yaml'), integrationSuiteSchema)).toEqual([]);
  });
});

describe('numbers of the spec are bounded', () => {
  it.each<[string, Path, unknown, string]>([
    [
      'growth',
      ['spec', 'rollout', 'timeToSmoke', 'growth'],
      `${huge}%`,
      'spec.rollout.timeToSmoke.growth: at most 1000% (or 10 as a fraction): give a smaller share, such as 20%',
    ],
    [
      'growth as a fraction',
      ['spec', 'rollout', 'timeToSmoke', 'growth'],
      11,
      'spec.rollout.timeToSmoke.growth: at most 1000% (or 10 as a fraction): give a smaller share, such as 20%',
    ],
    [
      'a regression limit',
      ['spec', 'validation', 'load', 'thresholds', 'regression', 'p99'],
      '1001%',
      'spec.validation.load.thresholds.regression.p99: at most 1000% (or 10 as a fraction): give a smaller share, such as 20%',
    ],
    [
      'the load rate',
      ['spec', 'validation', 'load', 'rate'],
      2_000_000,
      'spec.validation.load.rate: at most 1000000 requests per second',
    ],
    [
      'traffic in requests per second',
      ['spec', 'regions', 0, 'traits', 'traffic'],
      1e300,
      'spec.regions[0].traits.traffic: at most 1000000 requests per second',
    ],
    [
      'minSamples',
      ['spec', 'validation', 'analysis', 'minSamples'],
      1e9,
      'spec.validation.analysis.minSamples: Too big: expected number to be <=10000',
    ],
    [
      'maxParallel',
      ['spec', 'rollout', 'maxParallel'],
      1e9,
      'spec.rollout.maxParallel: Too big: expected number to be <=1000',
    ],
    [
      'a metric condition',
      ['spec', 'validation', 'analysis', 'metrics', 0, 'pass'],
      `< 1${'0'.repeat(400)}`,
      'spec.validation.analysis.metrics[0].pass: the value of "< 1',
    ],
  ])('bounds %s with the field path', (_name, path, value, problem) => {
    const problems = problemsOf(specWith(path, value));
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(problem)).toBe(true);
  });

  it('accepts any duration within its bound and refuses any beyond it, naming the field (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.constantFrom('d', 'h'), (n, unit) => {
        const text = `${n}${unit}`;
        const ms = n * (unit === 'd' ? day : 3_600_000);
        const problems = problemsOf(specWith(['spec', 'rollout', 'canarySoak'], text));
        if (ms <= maxDurationMs) expect(problems).toEqual([]);
        else expect(problems).toEqual([`spec.rollout.canarySoak: at most 30d: give a shorter duration, got "${text}"`]);
      }),
      { seed: 12, numRuns: 200 },
    );
  });
});

describe('specs that validate but could never run', () => {
  const window = (change: Record<string, unknown>) =>
    specWith(['spec', 'regions', 1, 'deployWindow'], { timezone: 'Asia/Seoul', hours: '09:00-17:00', ...change });

  it('refuses deploy hours that open and close at the same minute', () => {
    expect(problemsOf(window({ hours: '09:00-09:00' }))).toEqual([
      'spec.regions[1].deployWindow.hours: 09:00-09:00 opens and closes at the same minute, so the window never opens: give a closing time after the opening, such as 09:00-17:00; to deploy at any hour, remove deployWindow',
    ]);
    expect(problemsOf(window({ hours: '22:00-06:00' }))).toEqual([]);
  });

  it.each(['2026-02-30', '2026-13-01', '2025-02-29', '2026-04-31', '2026-00-10'])(
    'refuses the blocked date %s, which is not in the calendar',
    (date) => {
      expect(problemsOf(window({ blocked: ['2026-12-25', date] }))).toEqual([
        `spec.regions[1].deployWindow.blocked[1]: ${date} is not a date of the calendar: give one that exists, such as 2026-12-25`,
      ]);
    },
  );

  it('accepts every real date, and a leap day in a leap year (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
        (d) => {
          expect(problemsOf(window({ blocked: [d.toISOString().slice(0, 10), '2028-02-29'] }))).toEqual([]);
        },
      ),
      { seed: 12, numRuns: 100 },
    );
  });
});
