import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { type TrafficView, trafficCommand } from '../../../src/client/commands/traffic';
import { InvalidInputError } from '../../../src/domain/errors';
import { eventually } from '../../support/eventually';
import { type PowerDnsRig, startPowerDnsRig } from '../../support/powerdns';

/**
 * `meridian traffic` against a real PowerDNS: the view asks the DNS server what each client location
 * is answered, drain and restore change it. The release file is the project's example with a traffic
 * section for three of its regions pointing at this test's server.
 */
let rig: PowerDnsRig;
let folder: string;
let file: string;

function run(args: string[], values: { json?: boolean; reason?: string } = {}, env = rig.env) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = {
    out: (t: string) => out.push(t),
    err: (t: string) => err.push(t),
    env: { ...env, MERIDIAN_OPERATOR: 'alice' },
  };
  return trafficCommand({ file, ...values }, args, ctx).then((code) => ({
    code,
    out: out.join(''),
    err: err.join(''),
  }));
}

async function view(): Promise<TrafficView> {
  return JSON.parse((await run([], { json: true })).out) as TrafficView;
}

beforeAll(async () => {
  rig = await startPowerDnsRig();
  folder = mkdtempSync(join(tmpdir(), 'meridian-traffic-cli-'));
  cpSync(resolve(__dirname, '../../../examples'), folder, { recursive: true });
  file = join(folder, 'release.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['spec', 'traffic'], doc.createNode(rig.input));
  writeFileSync(file, doc.toString());
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('meridian traffic', () => {
  it('shows each client location answered by its closest healthy region, and every region up', async () => {
    await run(['restore', 'us-east'], { reason: 'first publish' });
    const now = await view();
    expect(now.hostname).toBe('shop.example.test');
    expect(now.regions.map((r) => [r.name, r.mode, r.health])).toEqual([
      ['us-east', 'in', 'up'],
      ['eu-west', 'in', 'up'],
      ['ap-northeast-2', 'in', 'up'],
    ]);
    expect(now.clients.map((c) => [c.name, c.answered, c.expected])).toEqual([
      ['new-york', 'us-east', ['us-east']],
      ['london', 'eu-west', ['eu-west']],
      ['tokyo', 'ap-northeast-2', ['ap-northeast-2']],
    ]);
  });

  it("drain sends a region's users to the next closest, shown with who and why; restore brings them back", async () => {
    const drained = await run(['drain', 'eu-west'], { reason: 'kernel upgrade' });
    expect(drained).toMatchObject({ code: 0, err: '' });
    expect(drained.out).toMatch(/^eu-west drained from shop\.example\.test by alice: kernel upgrade\n/);
    expect(drained.out).toContain('one TTL (2s)');
    const text = (await run([])).out;
    expect(text).toMatch(/eu-west\s+drained\s+up\s+by alice: kernel upgrade/);
    expect(text).toMatch(/london\s+198\.18\.2\.0\/24\s+→ us-east\n/);
    const after = await view();
    expect(after.regions.find((r) => r.name === 'eu-west')).toMatchObject({ mode: 'drained', by: 'alice' });
    expect(after.clients.find((c) => c.name === 'london')).toMatchObject({
      answered: 'us-east',
      expected: ['us-east'],
    });

    expect((await run(['restore', 'eu-west'], { reason: 'done' })).code).toBe(0);
    expect((await view()).clients.find((c) => c.name === 'london')?.answered).toBe('eu-west');
  });

  it('shows a region the DNS server sees failing as down, its users elsewhere', async () => {
    rig.setHealthy('ap-northeast-2', false);
    try {
      // The answers and the health records are checked on the server's own schedule: wait for both to see it.
      const now = await eventually(async (saw) => {
        const seen = saw(await view());
        const down = seen.regions.find((r) => r.name === 'ap-northeast-2')?.health === 'down';
        return down && seen.clients.find((c) => c.name === 'tokyo')?.answered !== 'ap-northeast-2' ? seen : undefined;
      }, 'ap-northeast-2 down and tokyo answered elsewhere');
      const tokyo = now.clients.find((c) => c.name === 'tokyo');
      expect(tokyo?.answered).not.toBe('ap-northeast-2');
      expect(tokyo?.expected).toEqual([tokyo?.answered]);
    } finally {
      rig.setHealthy('ap-northeast-2', true);
    }
  });

  it('refuses bad requests before touching the DNS server: exit 2, naming what to fix', async () => {
    await expect(run(['drain', 'eu-west'])).rejects.toThrow(/missing --reason TEXT/);
    await expect(run(['drain'], { reason: 'x' })).rejects.toThrow(/missing <region>: the region to drain/);
    await expect(run(['drain', 'mars'], { reason: 'x' })).rejects.toThrow(
      /region "mars" is not behind shop\.example\.test: spec\.traffic\.regions lists us-east, eu-west, ap-northeast-2/,
    );
    await expect(run(['drain', 'eu-west'], { reason: 'x' }, {})).rejects.toThrow(
      /MERIDIAN_POWERDNS_API_KEY is not set where this runs/,
    );
    const states = (await view()).regions.map((r) => r.mode);
    expect(states).toEqual(['in', 'in', 'in']);
  });

  it('says a release without a traffic section steers nothing', async () => {
    const plain = join(folder, 'plain.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.deleteIn(['spec', 'traffic']);
    writeFileSync(plain, doc.toString());
    const attempt = trafficCommand({ file: plain }, [], { out: () => {}, err: () => {}, env: {} });
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(/spec\.traffic: .* steers no traffic: add a traffic section/);
  });
});
