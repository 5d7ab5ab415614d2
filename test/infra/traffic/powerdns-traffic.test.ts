import { InvalidInputError, UnreachableError } from '../../../src/domain/errors';
import { trafficAt } from '../../../src/domain/traffic-policy';
import { queryDns } from '../../../src/infra/traffic/dns-query';
import { PowerDnsApi } from '../../../src/infra/traffic/powerdns-api';
import type { PowerDnsTraffic } from '../../../src/infra/traffic/powerdns-traffic';
import { apiKeyOf, trafficProvider } from '../../../src/infra/traffic/steering-target';
import { eventually } from '../../support/eventually';
import { clients, type PowerDnsRig, startPowerDnsRig, steeredRegions } from '../../support/powerdns';

/**
 * The PowerDNS provider against a real PowerDNS Authoritative: answers asked over DNS with each
 * client's subnet (EDNS Client Subnet), health checked by the server itself.
 */
let rig: PowerDnsRig;
let provider: PowerDnsTraffic;
const note = (reason: string) => ({ by: 'test', reason, at: new Date().toISOString() });
const subnetOf = (name: string) => clients.find((c) => c.name === name)!.subnet;
const regionAt = new Map<string, string>(Object.entries(steeredRegions).map(([name, r]) => [r.address, name]));

async function answered(client: string): Promise<string | undefined> {
  const answer = await queryDns(
    { host: '127.0.0.1', port: rig.dnsPort },
    { name: 'shop.example.test', clientSubnet: subnetOf(client) },
  );
  return answer.addresses.map((a) => regionAt.get(a)).find(Boolean);
}

beforeAll(async () => {
  rig = await startPowerDnsRig();
  provider = await trafficProvider(rig.traffic, rig.env);
}, 60_000);

afterAll(async () => rig?.stop());

describe('PowerDNS traffic steering', () => {
  it('passes its preflight on a server set up for LUA records, client location and 1 s checks', async () => {
    await expect(provider.preflight()).resolves.toBeUndefined();
  });

  it('answers every client with its closest healthy region once the answers are published', async () => {
    await provider.publish('first publish');
    const want = { 'new-york': 'us-east', london: 'eu-west', tokyo: 'ap-northeast-2' };
    await eventually(async (saw) => {
      const got = Object.fromEntries(await Promise.all(clients.map(async (c) => [c.name, await answered(c.name)])));
      return JSON.stringify(saw(got)) === JSON.stringify(want) ? got : undefined;
    }, 'each client answered by its closest region');
    expect(await provider.health()).toEqual({ 'us-east': 'up', 'eu-west': 'up', 'ap-northeast-2': 'up' });
  });

  it("moves a failed region's users to the next closest and back when it recovers (the server's own checks)", async () => {
    const lost = Date.now();
    rig.setHealthy('eu-west', false);
    await eventually(
      async (saw) => (saw(await answered('london')) === 'us-east' ? true : undefined),
      'london failed over',
    );
    const failover = Date.now() - lost;
    expect((await provider.health())['eu-west']).toBe('down');
    rig.setHealthy('eu-west', true);
    const back = Date.now();
    await eventually(async (saw) => (saw(await answered('london')) === 'eu-west' ? true : undefined), 'london back');
    console.log(
      `PowerDNS failover: health lost to answer changed ${failover} ms, recovered to answered again ${Date.now() - back} ms (check interval 1 s)`,
    );
  });

  it('drains a region (its users go elsewhere, never to it) and restores it, recording who and why', async () => {
    await provider.setRegion('eu-west', trafficAt(0, note('maintenance')));
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 30; i++) seen.add(await answered('london'));
    expect([...seen]).toEqual(['us-east']);
    expect((await provider.states())['eu-west']).toMatchObject({ mode: 'drained', by: 'test', reason: 'maintenance' });

    // Each write says the state it replaced: what a release that gives up before deploying puts back.
    expect(await provider.setRegion('eu-west', trafficAt(1, note('maintenance over')))).toMatchObject({
      mode: 'drained',
      share: 0,
      reason: 'maintenance',
    });
    await eventually(async (saw) => (saw(await answered('london')) === 'eu-west' ? true : undefined), 'london back');
    expect((await provider.states())['eu-west']).toMatchObject({ mode: 'in', share: 1, reason: 'maintenance over' });
  });

  it("ramps a region: it answers about its share of its own users' questions, the rest go to the next closest", async () => {
    await provider.setRegion('ap-northeast-2', trafficAt(0.3, note('ramp')));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const region = (await answered('tokyo')) ?? 'none';
      counts[region] = (counts[region] ?? 0) + 1;
    }
    console.log(`ramp 30%: tokyo answered ${JSON.stringify(counts)} of 300`);
    // 300 draws at p = 0.3: a standard deviation of 7.9; 0.2..0.4 is beyond 3.7 of them.
    expect(counts['ap-northeast-2'] / 300).toBeGreaterThan(0.2);
    expect(counts['ap-northeast-2'] / 300).toBeLessThan(0.4);
    expect(Object.keys(counts).sort()).toEqual(['ap-northeast-2', 'eu-west']);
    await provider.setRegion('ap-northeast-2', trafficAt(1, note('ramp done')));
  });

  it('keeps both states when two regions are set at once (each its own metadata; the answers converge)', async () => {
    await Promise.all([
      provider.setRegion('us-east', trafficAt(0, note('parallel a'))),
      provider.setRegion('eu-west', trafficAt(0, note('parallel b'))),
    ]);
    const states = await provider.states();
    expect(states['us-east'].mode).toBe('drained');
    expect(states['eu-west'].mode).toBe('drained');
    for (const client of ['new-york', 'london']) expect(await answered(client)).toBe('ap-northeast-2');
    await Promise.all(['us-east', 'eu-west'].map((r) => provider.setRegion(r, trafficAt(1, note('parallel restore')))));
  });

  it('is idempotent: setting a region to the state it has writes nothing', async () => {
    const state = trafficAt(1, note('same'));
    await provider.setRegion('us-east', state);
    const api = new PowerDnsApi({ api: rig.traffic.provider.powerdns.api, server: 'localhost', apiKey: rig.apiKey });
    const before = await api.zone('example.test');
    await provider.setRegion('us-east', state);
    expect(await api.zone('example.test')).toEqual(before);
  });

  it('refuses a state it did not write, naming the metadata, and a restore rewrites it', async () => {
    const api = new PowerDnsApi({ api: rig.traffic.provider.powerdns.api, server: 'localhost', apiKey: rig.apiKey });
    await api.putMetadata('example.test', 'X-MERIDIAN-TRAFFIC.shop.example.test.us-east', ['{"mode":"whatever"}']);
    await expect(provider.states()).rejects.toThrow(
      /X-MERIDIAN-TRAFFIC\.shop\.example\.test\.us-east is not a traffic state/,
    );
    // The unreadable state is overwritten; what it was is unknown, so none is returned.
    expect(await provider.setRegion('us-east', trafficAt(1, note('rewrite')))).toBeUndefined();
    expect((await provider.states())['us-east'].reason).toBe('rewrite');
  });

  it('refuses a region not behind the hostname', async () => {
    await expect(provider.setRegion('mars', trafficAt(0, note('x')))).rejects.toThrow(
      /region "mars" is not behind shop\.example\.test: spec\.traffic\.regions lists us-east, eu-west, ap-northeast-2/,
    );
  });

  it('never writes the API key into the zone: records, comments or metadata', async () => {
    const api = new PowerDnsApi({ api: rig.traffic.provider.powerdns.api, server: 'localhost', apiKey: rig.apiKey });
    const zone = JSON.stringify(await api.zone('example.test'));
    const metadata = JSON.stringify([...(await api.metadata('example.test'))]);
    expect(zone).toContain('managed by Meridian');
    expect(zone).not.toContain(rig.apiKey);
    expect(metadata).not.toContain(rig.apiKey);
  });

  it('says a wrong key is refused without quoting it, and an API that does not answer is unreachable', async () => {
    const wrong = await trafficProvider(rig.traffic, { MERIDIAN_POWERDNS_API_KEY: 'wrong-key-123' });
    const refusal = await wrong.preflight().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(InvalidInputError);
    expect((refusal as Error).message).toMatch(/refused the API key \(401\)/);
    expect((refusal as Error).message).not.toContain('wrong-key-123');

    const down = await trafficProvider(
      {
        ...rig.traffic,
        provider: { powerdns: { ...rig.traffic.provider.powerdns, api: 'http://127.0.0.1:1' } },
      },
      rig.env,
    );
    await expect(down.setRegion('us-east', trafficAt(0, note('x')))).rejects.toBeInstanceOf(UnreachableError);
  });

  it('reads the key from the environment the spec names, and says which variable is missing', async () => {
    expect(await apiKeyOf({ env: 'MERIDIAN_POWERDNS_API_KEY' }, rig.env)).toBe(rig.apiKey);
    await expect(apiKeyOf({ env: 'NOT_SET_HERE' }, {})).rejects.toThrow(
      /the environment variable NOT_SET_HERE is not set where this runs/,
    );
  });
});
