import { boundedIdentity, readOperatorRequest } from '../../src/domain/operator-requests';
import { releaseInputProblems } from '../../src/domain/release-input';
import { formatStatus, printable } from '../../src/client/status-view';
import type { ReleaseStatus } from '../../src/domain/release-status';
import { exampleInput, withAnalysis, withStaging } from '../support/fake-activities';

describe('operator payloads as the workflows read them', () => {
  it('keeps only the fields of the message, as they were sent', () => {
    expect(readOperatorRequest('approve', { gate: 'accept-wave-3', by: 'alice', reason: 'fine' })).toEqual({
      ok: true,
      request: { gate: 'accept-wave-3', by: 'alice', reason: 'fine' },
    });
    expect(readOperatorRequest('resume', undefined, true)).toEqual({ ok: true, request: {} });
    expect(readOperatorRequest('move-region', { region: 'sa-east', toWave: 5, reason: 'r' })).toEqual({
      ok: true,
      request: { region: 'sa-east', toWave: 5, reason: 'r' },
    });
  });

  it('refuses a missing payload where one is needed, and names unknown fields (at most three)', () => {
    expect(readOperatorRequest('skip-region', undefined)).toEqual({
      ok: false,
      refused: 'skip-region: expected an object such as {"region":"eu-west","by":"alice","reason":"..."}, got nothing',
    });
    expect(readOperatorRequest('pause', JSON.parse('{"a":1,"b":2,"c":3,"__proto__":4,"e":5}'))).toEqual({
      ok: false,
      refused: 'pause: unknown fields "a", "b", "c" and 2 more (pause takes by, reason)',
    });
  });

  it('bounds the identity Temporal reports to one line of at most 256 characters', () => {
    expect(boundedIdentity('temporal-cli:root@vm')).toBe('temporal-cli:root@vm');
    expect(boundedIdentity('a\u001b[2Jb')).toBe('a?[2Jb');
    expect(boundedIdentity('x'.repeat(1000))).toHaveLength(256);
    expect(boundedIdentity('')).toBeUndefined();
  });
});

describe('releaseInputProblems', () => {
  it('finds none in the inputs meridian start sends', () => {
    expect(releaseInputProblems(exampleInput('ok'))).toEqual([]);
    expect(
      releaseInputProblems(
        exampleInput('ok', (s) => (withStaging(s), withAnalysis(s)), { bakeMs: 0, canarySoakMs: 1000 }),
      ),
    ).toEqual([]);
  });
});

describe('printable', () => {
  it('escapes control characters and bidirectional overrides in what the status view prints of operators', () => {
    expect(printable('ok\u001b[2J\n\u202e')).toBe('ok\\u001b[2J\\u000a\\u202e');
    const status = {
      releaseId: 'r',
      app: 'a',
      version: '1',
      phase: 'Running',
      wave: 1,
      waves: [],
      regions: [{ name: 'x', wave: 1, phase: 'Pending', attempts: 0 }],
      paused: false,
      actions: [{ action: 'pause', by: 'mallory\u001b[2J', reason: 'a\rb', at: 't' }],
    } as unknown as ReleaseStatus;
    expect(formatStatus(status)).toContain('t  mallory\\u001b[2J  pause: a\\u000db');
  });
});
