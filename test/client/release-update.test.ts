import { InvalidInputError } from '../../src/domain/errors';
import { checkOperatorRequest } from '../../src/client/release-update';

function refusal(run: () => void): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('not refused');
}

describe('checkOperatorRequest (before the CLI sends anything)', () => {
  it('lets a request through that the release will take', () => {
    expect(() => checkOperatorRequest('abort', 'abort', { by: 'alice@host', reason: 'p99 is up' })).not.toThrow();
    expect(() => checkOperatorRequest('approve', 'approve', { by: 'alice@host', gate: 'after-canary' })).not.toThrow();
  });

  it('refuses what the release would refuse, naming the option it came from', () => {
    expect(refusal(() => checkOperatorRequest('abort', 'abort', { by: 'alice', reason: 'r'.repeat(2000) }))).toBe(
      'abort: reason: at most 1024 characters, got 2000: shorten it (from --reason); nothing was sent',
    );
    expect(refusal(() => checkOperatorRequest('pause', 'pause', { by: 'x\u001b[2J' }))).toMatch(
      /^pause: by: one line of printable text, .*\(from MERIDIAN_OPERATOR \(or your user@host\)\); nothing was sent$/,
    );
    expect(refusal(() => checkOperatorRequest('approve', 'approve', { by: 'a', gate: 'after-lunch' }))).toMatch(
      /^approve: gate: .*\(from --gate\); nothing was sent$/,
    );
  });
});
