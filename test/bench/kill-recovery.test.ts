import { describeKillRecovery, type KillRecovery } from '../../src/bench/kill-recovery';

// The measurement itself runs in CI in full, every kind, as test/e2e/kill-recovery.test.ts (section 6 of the bench).
describe('describeKillRecovery', () => {
  const result = (kind: KillRecovery['kind'], recoveredMs: number, startToCloseMs: number): KillRecovery => ({
    kind,
    activity: 'a',
    workflowId: 'w',
    killedAttempt: 1,
    recoveredMs,
    heartbeatTimeoutMs: 20_000,
    startToCloseMs,
  });

  it('names the worst kind beside its heartbeat timeout and its start-to-close limit, and lists every kind', () => {
    expect(
      describeKillRecovery([
        result('checks', 21_100, 120_000),
        result('copy', 25_400, 660_000),
        result('rollback', 22_100, 300_000),
      ]),
    ).toBe(
      'recovery from a SIGKILLed worker, worst of 3 kinds: 25.4 s (copy), 1.27x its 20.0 s heartbeat timeout, 0.04x the 660.0 s start-to-close limit a kill cost without one; ' +
        'per kind: checks 21.1 s, copy 25.4 s, rollback 22.1 s',
    );
    expect(describeKillRecovery([result('checks', 22_100, 120_000)])).toMatch(
      /^recovery from a SIGKILLed worker, worst of 1 kind: 22\.1 s \(checks\), 1\.10x/,
    );
  });
});
