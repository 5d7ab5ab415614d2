import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { rig, temporalClient } from '../support/e2e';
import {
  allWorkflows,
  decodedHistory,
  filesUnder,
  historyShownByTemporalCli,
  leaks,
  rigSecrets,
} from '../support/production';

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
    expect(secrets.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'admin API key',
        'codec key',
        'codec server token',
        'PostgreSQL password',
        'PowerDNS API key',
      ]),
    );
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
      const history = await decodedHistory(client, w.workflowId, w.runId);
      if (history.includes('meridian.dev/v1alpha1')) decoded++; // a release's spec, readable only once decoded
      found.push(...leaks(history, `history of ${w.workflowId}`, secrets));
    }
    expect(decoded).toBeGreaterThan(0);
    expect(found).toEqual([]);
  }, 600_000);

  it('the temporal CLI shows a release decoded through the codec server, as its profile says', async () => {
    const ended = (await allWorkflows(client, 'WorkflowType="releaseWorkflow" AND ExecutionStatus="Completed"'))[0];
    expect(ended).toBeDefined();
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    // The JSON output keeps payload fields in base64: decoded payloads say json/plain, encrypted ones binary/encrypted.
    const shown = await historyShownByTemporalCli(ended.workflowId);
    expect(shown).toContain(`"encoding": "${b64('json/plain')}"`);
    expect(shown).not.toContain(b64('binary/encrypted'));
    // The control: the same profile without its codec section shows the ciphertext.
    const toml = readFileSync(rig.clientEnv.TEMPORAL_CONFIG_FILE, 'utf8');
    const withoutCodec = join(rig.layout.dir, 'temporal-no-codec.toml');
    writeFileSync(
      withoutCodec,
      toml.slice(0, toml.indexOf('.codec]') > 0 ? toml.lastIndexOf('[', toml.indexOf('.codec]')) : toml.length),
      { mode: 0o600 },
    );
    const raw = await historyShownByTemporalCli(ended.workflowId, { TEMPORAL_CONFIG_FILE: withoutCodec });
    expect(raw).toContain(b64('binary/encrypted'));
  }, 120_000);

  it('finds none in any log of the rig or of the workers', () => {
    const files = filesUnder(rig.layout.logs).filter((f) => !f.endsWith('.png'));
    expect(files.some((f) => f.includes('e2e-workers'))).toBe(true);
    expect(files.some((f) => f.endsWith('temporal-server.log'))).toBe(true);
    const found = files.flatMap((f) => leaks(readFileSync(f, 'utf8'), f, secrets));
    expect(found).toEqual([]);
  });
});
