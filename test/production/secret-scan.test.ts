import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { rig, temporalClient } from '../support/e2e';
import { allWorkflows, decodedHistory, filesUnder, leaks, rigSecrets } from '../support/production';

/**
 * Runs last in the production tier (see test/support/production-sequencer.js): every workflow history
 * the tier left, decoded through the codec server, and every log of the rig and of the tier's workers,
 * searched for every secret the rig holds.
 */
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  ({ client, close: closeClient } = await temporalClient());
});
afterAll(() => closeClient());

describe('secrets on the production profile', () => {
  const secrets = rigSecrets();

  it('knows the secrets to look for, and finds one planted in a log', () => {
    expect(secrets.map((s) => s.name)).toEqual(expect.arrayContaining(['admin API key', 'codec key', 'codec server token', 'PostgreSQL password']));
    expect(secrets.some((s) => s.name.startsWith('kube client key'))).toBe(true);
    const planted = join(rig.layout.logs, 'planted-for-the-scan.log');
    writeFileSync(planted, `a careless line with ${secrets[0].value} in it\n`);
    expect(leaks(readFileSync(planted, 'utf8'), planted, secrets)).toEqual([`${planted}: ${secrets[0].name}`]);
    writeFileSync(planted, '');
  });

  it('finds none in any workflow history, decoded', async () => {
    const workflows = await allWorkflows(client);
    expect(workflows.length).toBeGreaterThan(5);
    const found: string[] = [];
    let decoded = 0;
    for (const w of workflows) {
      const history = await decodedHistory(w.workflowId, w.runId);
      if (history.includes('meridian.dev/v1alpha1')) decoded++; // a release's spec, readable only once decoded
      found.push(...leaks(history, `history of ${w.workflowId}`, secrets));
    }
    expect(decoded).toBeGreaterThan(0);
    expect(found).toEqual([]);
  }, 600_000);

  it('finds none in any log of the rig or of the workers', () => {
    const files = filesUnder(rig.layout.logs).filter((f) => !f.endsWith('.png'));
    expect(files.some((f) => f.includes('e2e-workers'))).toBe(true);
    expect(files.some((f) => f.endsWith('temporal-server.log'))).toBe(true);
    const found = files.flatMap((f) => leaks(readFileSync(f, 'utf8'), f, secrets));
    expect(found).toEqual([]);
  });
});
