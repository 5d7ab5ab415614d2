import { UsageError } from '../../src/client/cli-errors';
import { durationOption, overridesFrom } from '../../src/client/options';

describe('duration options', () => {
  it('takes what the spec fields take', () => {
    expect(overridesFrom({ bake: '30d', 'canary-soak': '1h', 'load-duration': '24d', 'analysis-interval': '10s' })).toEqual({
      bakeMs: 30 * 86_400_000,
      canarySoakMs: 3_600_000,
      loadDurationMs: 24 * 86_400_000,
      analysisIntervalMs: 10_000,
    });
  });

  it.each([
    ['bake', `${'9'.repeat(400)}d`, /^--bake: at most 30d: give a shorter duration, got "9{80}…" \(401 characters\)$/],
    ['bake', '31d', /^--bake: at most 30d: give a shorter duration, got "31d"$/],
    ['canary-soak', '1e400d', /^--canary-soak: expected a duration such as/],
    ['load-duration', '25d', /^--load-duration: at most 24d \(the longest a timer can wait\): give a shorter duration, got "25d"$/],
    ['analysis-interval', `${'1'.repeat(350)}ms`, /^--analysis-interval: at most 30d: give a shorter duration/],
  ])('refuses --%s (case %#) with the bound, never Infinity', (name, value, message) => {
    let thrown: unknown;
    try {
      overridesFrom({ [name]: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(message);
  });

  it('never returns a number that is not finite', () => {
    for (const value of ['0', '30d', '1.5h']) expect(Number.isFinite(durationOption('bake', value))).toBe(true);
  });
});
