import type { Client } from '@temporalio/client';
import { describeKillRecovery, killKinds, measureKillRecovery } from '../../src/bench/kill-recovery';
import { rigEnv, temporalClient, workerLogDir } from '../support/e2e';

let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  ({ client, close: closeClient } = await temporalClient());
});

afterAll(async () => {
  await closeClient();
});

describe('a worker SIGKILLed inside a long activity', () => {
  it('costs each kind of activity about its heartbeat timeout, not its start-to-close limit', async () => {
    const results = await measureKillRecovery({
      client,
      env: rigEnv(),
      logDir: workerLogDir,
      log: (line) => console.log(line),
    });
    console.log(describeKillRecovery(results));

    expect(results.map((r) => r.kind)).toEqual([...killKinds]);
    for (const r of results) {
      // Every long activity has a heartbeat timeout well under its start-to-close limit.
      expect({ kind: r.kind, heartbeatTimeoutMs: r.heartbeatTimeoutMs }).toEqual({
        kind: r.kind,
        heartbeatTimeoutMs: 20_000,
      });
      expect(r.startToCloseMs).toBeGreaterThan(r.heartbeatTimeoutMs);
      // The kill landed inside a running attempt, which the server gave up on only once its heartbeats stopped.
      expect(r.recoveredMs).toBeGreaterThan(1_000);
    }
    // At most the heartbeat timeout, plus the first retry's interval (5 s at most), a new worker's start and
    // the noise of a shared 2-core machine: 20 s of slack, still far under the limits (2 minutes and more).
    const slow = results
      .filter((r) => r.recoveredMs >= r.heartbeatTimeoutMs + 20_000)
      .map((r) => `${r.kind} ${r.recoveredMs} ms`);
    expect(slow).toEqual([]);
  }, 480_000);
});
