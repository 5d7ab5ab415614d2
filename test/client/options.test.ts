import { UsageError } from '../../src/client/cli-errors';
import { durationParser, overridesFrom, wholeNumberParser } from '../../src/client/options';
import { maxTimerMs } from '../../src/domain/duration';

function refusal(run: () => unknown): string {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(UsageError);
  return (thrown as Error).message;
}

describe('duration options', () => {
  it('take what the spec fields take', () => {
    expect(durationParser('--bake')('30d')).toBe(30 * 86_400_000);
    expect(durationParser('--canary-soak')('1h')).toBe(3_600_000);
    expect(durationParser('--load-duration', maxTimerMs)('24d')).toBe(24 * 86_400_000);
    expect(durationParser('--analysis-interval', undefined, { ms: 1000, fix: 'give 1s or more' })('10s')).toBe(10_000);
  });

  it.each([
    [
      '--bake',
      `${'9'.repeat(400)}d`,
      undefined,
      /^--bake: at most 30d: give a shorter duration, got "9{80}…" \(401 characters\)$/,
    ],
    ['--bake', '31d', undefined, /^--bake: at most 30d: give a shorter duration, got "31d"$/],
    ['--canary-soak', '1e400d', undefined, /^--canary-soak: expected a duration such as/],
    [
      '--load-duration',
      '25d',
      maxTimerMs,
      /^--load-duration: at most 24d \(the longest a timer can wait\): give a shorter duration, got "25d"$/,
    ],
    [
      '--analysis-interval',
      `${'1'.repeat(350)}ms`,
      undefined,
      /^--analysis-interval: at most 30d: give a shorter duration/,
    ],
  ])('refuse %s (case %#) with the bound, never Infinity', (flag, value, maxMs, message) => {
    expect(refusal(() => durationParser(flag, maxMs)(value))).toMatch(message);
  });

  it('refuse less than their least, saying what to give', () => {
    expect(
      refusal(() => durationParser('--load-duration', maxTimerMs, { ms: 1000, fix: 'give 1s or more' })('999ms')),
    ).toBe('--load-duration: give 1s or more');
  });

  it('never return a number that is not finite', () => {
    for (const value of ['0', '30d', '1.5h']) expect(Number.isFinite(durationParser('--bake')(value))).toBe(true);
  });
});

describe('whole number options', () => {
  it('take digits within the bounds, and nothing else', () => {
    const limit = wholeNumberParser('--limit', 1, 1000);
    expect(limit('1')).toBe(1);
    expect(limit('1000')).toBe(1000);
    for (const text of ['0', '1001', 'abc', '-1', '+1', '1.0', '1e2', '0x10', '', '9'.repeat(400)]) {
      expect(refusal(() => limit(text))).toMatch(/^--limit: expected a whole number from 1 to 1000, got "/);
    }
  });
});

describe('overridesFrom', () => {
  it('names the bake and soak always, the load duration and analysis interval only when given (older releases keep their input)', () => {
    expect(overridesFrom({})).toEqual({ bakeMs: undefined, canarySoakMs: undefined });
    expect(Object.keys(overridesFrom({}))).toEqual(['bakeMs', 'canarySoakMs']);
    expect(overridesFrom({ bake: 1, canarySoak: 2, loadDuration: 3000, analysisInterval: 4000 })).toEqual({
      bakeMs: 1,
      canarySoakMs: 2,
      loadDurationMs: 3000,
      analysisIntervalMs: 4000,
    });
  });
});
