import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { parseDocument } from 'yaml';
import { type TrafficView, trafficCommand } from '../../../src/client/commands/traffic';
import { type MotoServer, startMoto } from '../../support/moto';

/**
 * `meridian traffic` on Route 53 (a real moto_server): with no nameservers in the spec the view cannot ask
 * DNS questions, so it says so and shows each region's state and health; drain and restore write the
 * records. The release file is the project's example with a Route 53 traffic section for three regions.
 */
let moto: MotoServer;
let folder: string;
let file: string;
let zoneId: string;

function run(args: string[], values: { json?: boolean; reason?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = {
    out: (t: string) => out.push(t),
    err: (t: string) => err.push(t),
    env: { ...moto.env, MERIDIAN_OPERATOR: 'alice' },
  };
  return trafficCommand({ file, ...values }, args, ctx).then((code) => ({
    code,
    out: out.join(''),
    err: err.join(''),
  }));
}

async function latencyRecords(): Promise<string[]> {
  const { ResourceRecordSets } = await moto.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (ResourceRecordSets ?? [])
    .filter((r) => r.Region)
    .map((r) => `${r.SetIdentifier} ${r.Region}`)
    .sort();
}

beforeAll(async () => {
  moto = await startMoto();
  zoneId = await moto.createZone('example.test');
  folder = mkdtempSync(join(tmpdir(), 'meridian-traffic-route53-'));
  cpSync(resolve(__dirname, '../../../examples'), folder, { recursive: true });
  file = join(folder, 'release.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(
    ['spec', 'traffic'],
    doc.createNode({
      hostname: 'shop.example.test',
      zone: 'example.test',
      ttl: '5s',
      provider: { route53: { hostedZoneId: zoneId, endpoint: moto.endpoint } },
      healthCheck: { path: '/healthz', port: 18200, interval: '10s' },
      regions: {
        'us-west': { addresses: ['127.0.2.1'], location: { latitude: 45.6, longitude: -121.2 } },
        'eu-west': { addresses: ['127.0.4.1'], location: { latitude: 53.3, longitude: -6.3 } },
        'ap-northeast-2': { addresses: ['127.0.5.1'], location: { latitude: 37.6, longitude: 127.0 } },
      },
      clients: [{ name: 'london', subnet: '198.18.2.0/24', location: { latitude: 51.5, longitude: -0.1 } }],
    }),
  );
  writeFileSync(file, doc.toString());
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('meridian traffic on Route 53', () => {
  it('drains and restores a region with who and why, and shows states and health without asking DNS', async () => {
    const drained = await run(['drain', 'eu-west'], { reason: 'kernel upgrade' });
    expect(drained).toMatchObject({ code: 0, err: '' });
    expect(drained.out).toMatch(/^eu-west drained from shop\.example\.test by alice: kernel upgrade\n/);
    expect(await latencyRecords()).toEqual(['ap-northeast-2 ap-northeast-2', 'us-west us-west-2']);

    const view = JSON.parse((await run([], { json: true })).out) as TrafficView;
    expect(view.regions.map((r) => [r.name, r.mode, r.health, r.by ?? null])).toEqual([
      ['us-west', 'in', 'up', null],
      ['eu-west', 'drained', 'up', 'alice'],
      ['ap-northeast-2', 'in', 'up', null],
    ]);
    expect(view.clients).toEqual([]);
    expect(view.clientsNotAsked).toBe(
      'spec.traffic.provider.route53 lists no nameservers, so Meridian cannot ask what each client is answered: add nameservers (host:port of DNS servers answering shop.example.test) to see it',
    );
    const text = (await run([])).out;
    expect(text).toMatch(/eu-west\s+drained\s+up\s+by alice: kernel upgrade/);
    expect(text).toContain('clients\n  not asked: spec.traffic.provider.route53 lists no nameservers');

    const restored = await run(['restore', 'eu-west'], { reason: 'upgrade done' });
    expect(restored).toMatchObject({ code: 0, err: '' });
    expect(await latencyRecords()).toEqual(['ap-northeast-2 ap-northeast-2', 'eu-west eu-west-1', 'us-west us-west-2']);
  });
});
