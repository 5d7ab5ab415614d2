import type { Client } from '@temporalio/client';
import { describeKillRecovery, measureKillRecovery } from '../../src/bench/kill-recovery';
import { rigEnv, temporalClient, workerLogDir } from '../support/e2e';

let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  ({ client, close: closeClient } = await temporalClient());
});

afterAll(async () => {
  await closeClient();
});

describe('the kill-recovery bench, quick form', () => {
  it('kills the worker inside the HTTP checks and reports the recovery beside the heartbeat timeout and the old limit', async () => {
    const results = await measureKillRecovery({ client, env: rigEnv(), logDir: workerLogDir, kinds: ['checks'] });
    const line = describeKillRecovery(results);
    console.log(`6. ${line}`);

    expect(results).toEqual([expect.objectContaining({ kind: 'checks', activity: 'runIntegrationChecks', killedAttempt: 1, heartbeatTimeoutMs: 20_000, startToCloseMs: 120_000 })]);
    expect(results[0].recoveredMs).toBeGreaterThan(1_000);
    expect(results[0].recoveredMs).toBeLessThan(40_000);
    expect(line).toMatch(/^recovery from a SIGKILLed worker, worst of 1 kind: \d+\.\d s \(checks\), \d\.\d\dx its 20\.0 s heartbeat timeout, 0\.\d\dx the 120\.0 s start-to-close limit a kill cost without one; per kind: checks \d+\.\d s$/);
  }, 240_000);
});
