import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { type Browser, chromium } from 'playwright-core';
import { meridian } from '../support/cli';
import { rig, rigEnv, specFor, temporalClient } from '../support/e2e';

/**
 * The Web UI of the production profile, in a real browser (Debian's Chromium, headless): a release's
 * input is ciphertext in Temporal, and the UI shows it decoded by Meridian's codec server.
 */
const stamp = Date.now().toString(36);
const marker = `shown-decoded-${stamp}`;
const version = `2.8.0-ui.${stamp}`;
const releaseId = `release-shop-api-${version}`;
let browser: Browser;
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  expect(rig.profile).toBe('production');
  ({ client, close: closeClient } = await temporalClient());
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Headless as root, and nothing that would reach for the network beyond loopback.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await client.workflow
    .getHandle(releaseId)
    .terminate('web UI test done')
    .catch(() => undefined);
  await closeClient();
  await browser?.close();
});

describe('the Web UI of the production profile', () => {
  it('opens a release and shows its input decoded by the codec server', async () => {
    // No worker needs to run: the input is in the workflow's first event.
    const file = specFor(version, (doc) => doc.setIn(['metadata', 'description'], marker));
    expect((await meridian(['start', '-f', file], { env: rigEnv() })).code).toBe(0);
    const page = await browser.newPage();
    const codecCalls: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/codec/decode')) codecCalls.push(r.status());
    });
    await page.goto(`${rig.temporal.uiUrl}/namespaces/${rig.temporal.namespace}/workflows/${releaseId}`, {
      waitUntil: 'domcontentloaded',
    });
    await page.getByText(marker).first().waitFor({ timeout: 60_000 });
    expect(codecCalls.length).toBeGreaterThan(0);
    expect(codecCalls.every((s) => s === 200)).toBe(true);
    const text = await page.locator('body').innerText();
    expect(text).toContain(marker);
    mkdirSync(join(rig.layout.logs, 'screenshots'), { recursive: true });
    await page.screenshot({ path: join(rig.layout.logs, 'screenshots', 'release-input-decoded.png'), fullPage: true });
  }, 120_000);

  it('filters releases by Meridian search attributes in the workflow list', async () => {
    const page = await browser.newPage();
    const query = encodeURIComponent(`MeridianVersion="${version}"`);
    await page.goto(`${rig.temporal.uiUrl}/namespaces/${rig.temporal.namespace}/workflows?query=${query}`, {
      waitUntil: 'networkidle',
    });
    await page.getByText(releaseId).first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(rig.layout.logs, 'screenshots', 'release-list-filtered.png') });
  }, 120_000);
});
