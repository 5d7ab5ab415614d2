import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { maxDurationMs, maxHistoryMs } from '../../src/domain/duration';
import { computeTimeToSmoke, type Incident, parseIncidentsCsv } from '../../src/domain/time-to-smoke';
import {
  exampleCopy,
  expectInputInvariants,
  FuzzTally,
  fuzzOptions,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  maxOutputLineChars,
  meridian,
  mustHold,
} from '../support/fuzz-cli';
import { hostileStrings, mutatedText } from '../support/fuzz-inputs';

/**
 * Fuzzing of the incident history (spec.rollout.timeToSmoke.incidents), from which plan computes the
 * bakes: the parser and computeTimeToSmoke directly, on the example history mutated character by
 * character and on rows built with hostile times (no zone, year 275760, February 30, offsets past 23h,
 * epoch numbers) and ids; then through `meridian plan --json`. Invariants: parsing never throws, every
 * problem and warning names its line in a bounded line, every incident read has finite times in order;
 * the time-to-smoke of any history under any options the spec accepts is finite and within
 * [floor, ceiling]; through the CLI, exit 0 or 2 and an accepted plan's bakes are finite.
 */
const runs = fuzzRuns(5000);
const cliRuns = fuzzRuns(80, 0.04);
const dir = exampleCopy();
const example = readFileSync(join(dir, 'incidents.csv'), 'utf8').split('\n');

const time = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .date({ min: new Date('2026-01-01'), max: new Date('2026-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().replace('.000Z', 'Z')),
  fc.constantFrom(
    '2026-05-04T08:00:00Z',
    '2026-05-04T08:00',
    '2026-02-30T00:00:00Z',
    '2026-05-04T24:00:00Z',
    '2026-05-04T08:00:00+24:00',
    '2026-05-04t08:00:00z',
    '+275760-09-13T00:00:00Z',
    '9999-12-31T23:59:59.999999999+23:59',
    '0000-01-01T00:00:00Z',
    '1e12',
    '1780000000000',
    '2026-05-04 08:00:00Z',
    '',
  ),
  fc.constantFrom(...hostileStrings),
);
const cell = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ maxLength: 10 }),
  fc.string({ maxLength: 10 }).map((s) => `"${s.replace(/"/g, '""')}"`),
);
const row = fc
  .tuple(fc.oneof(cell, fc.constantFrom('INC-1', 'INC-1', 'INC-2')), time, time, fc.constantFrom('1', '2', ''), cell)
  .map((cells) => cells.join(','));
const header = fc.constantFrom(
  'incident,deployed_at,detected_at,severity,summary',
  'DETECTED_AT,incident,deployed_at',
  'incident;deployed_at;detected_at',
  'incident,deployed_at,deployed_at,detected_at',
  '\ufeffincident,deployed_at,detected_at',
  'incident,deployed_at',
);
const history = fc.oneof(
  fc.tuple(mutatedText(example, row), fc.constantFrom('\n', '\r\n', '\r')).map(([lines, eol]) => lines.join(eol)),
  fc
    .tuple(header, fc.array(row, { maxLength: 30 }), fc.constantFrom('\n', '\r\n', '\r'))
    .map(([h, rows, eol]) => [h, ...rows].join(eol)),
);
const day = 86_400_000;
const options = fc
  .record({
    method: fc.constantFrom<'twice-mean' | 'percentile'>('twice-mean', 'percentile'),
    percentile: fc.double({ min: Number.MIN_VALUE, max: 100, noNaN: true }),
    windowMs: fc.integer({ min: 0, max: maxHistoryMs }),
    floorMs: fc.integer({ min: 0, max: maxDurationMs }),
    ceilingMs: fc.integer({ min: 0, max: maxDurationMs }),
    now: fc.oneof(
      fc.constant(Date.parse('2026-12-02T00:00:00Z')),
      fc.integer({ min: -8.64e15 + 3650 * day, max: 8.64e15 }),
    ),
  })
  .filter((o) => o.floorMs <= o.ceilingMs);

function expectLocated(message: string, what: string): void {
  mustHold(
    /^(line \d+[: (]|and \d+ more rows? that cannot be used$|no incident below the header)/.test(message),
    `a ${what} naming its line`,
    message,
  );
  mustHold(message.length <= maxOutputLineChars, `a ${what} of at most ${maxOutputLineChars} characters`, message);
}

describe('fuzzed incident histories', () => {
  it(
    `parse, and give a bake within [floor, ceiling], over ${runs} histories (seed ${fuzzSeed})`,
    () => {
      const tally = new FuzzTally('incident-history (parser)');
      fc.assert(
        fc.property(history, options, (text, opts) => {
          const parsed = parseIncidentsCsv(text);
          parsed.problems.forEach((p) => expectLocated(p, 'problem'));
          parsed.warnings.forEach((w) => expectLocated(w, 'warning'));
          mustHold(
            parsed.problems.length <= 21,
            'at most 20 problems listed and a count of the rest',
            parsed.problems.length,
          );
          for (const i of parsed.incidents) {
            mustHold(
              Number.isFinite(i.deployedAt) && Number.isFinite(i.detectedAt) && i.deployedAt <= i.detectedAt,
              'an incident with finite times in order',
              i,
            );
          }
          tally.count(parsed.problems.length === 0);
          const incidents: Incident[] = parsed.incidents;
          const tts = computeTimeToSmoke(incidents, opts);
          mustHold(
            Number.isFinite(tts.ms) && tts.ms >= opts.floorMs && tts.ms <= opts.ceilingMs,
            'a time-to-smoke within [floor, ceiling]',
            { tts, opts },
          );
          mustHold(
            tts.used <= incidents.length && tts.derivation.length < 500,
            'a derivation in words, counting only incidents given',
            tts,
          );
        }),
        fuzzOptions(runs),
      );
      tally.report();
      expect(tally.accepted).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it(
    `hold the CLI's input invariants through meridian plan over ${cliRuns} histories (seed ${fuzzSeed})`,
    async () => {
      const tally = new FuzzTally('incident-history (plan)');
      const spec = join(dir, 'incidents-spec.yaml');
      writeFileSync(
        spec,
        readFileSync(join(dir, 'release.yaml'), 'utf8').replace('./incidents.csv', './incidents-fuzz.csv'),
      );
      await fc.assert(
        fc.asyncProperty(history, async (text) => {
          writeFileSync(join(dir, 'incidents-fuzz.csv'), text);
          const outcome = await meridian(['plan', '-f', spec, '--json'], dir);
          const accepted = expectInputInvariants(outcome, /spec\.rollout\.timeToSmoke\.incidents|incidents-fuzz\.csv/);
          tally.count(accepted);
          if (!accepted) return;
          const planned = JSON.parse(outcome.stdout) as { waves: { bakeMs: number }[]; timeToSmoke?: { ms: number } };
          // The example's floor and ceiling: 30m and 12h.
          mustHold(
            planned.timeToSmoke !== undefined &&
              planned.timeToSmoke.ms >= 30 * 60_000 &&
              planned.timeToSmoke.ms <= 12 * 3_600_000,
            'a time-to-smoke within the spec bounds',
            planned.timeToSmoke,
          );
          for (const wave of planned.waves)
            mustHold(Number.isFinite(wave.bakeMs), 'every wave has a finite bake', wave);
        }),
        fuzzOptions(cliRuns),
      );
      tally.report();
    },
    fuzzTimeoutMs,
  );
});
