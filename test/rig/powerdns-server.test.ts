import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryDns } from '../../src/infra/traffic/dns-query';
import {
  powerDnsApiUrl,
  powerDnsFiles,
  powerDnsHealth,
  powerDnsProcess,
  startPowerDns,
  stopPowerDns,
} from '../../src/rig/powerdns-server';
import { trafficSchema } from '../../src/domain/traffic-spec';
import { isAlive, runningPid } from '../../src/rig/processes';
import { rigConfigSchema, rigLayout } from '../../src/rig/rig-config';
import { powerDnsApiKeyFile, readPowerDnsApiKey } from '../../src/rig/rig-credentials';
import { rigTraffic } from '../../src/rig/rig-traffic';
import { freePort } from '../support/registry';

/**
 * A real pdns_server (Debian's PowerDNS 4.7 with the sqlite3 and geoip backends) in a rig folder of
 * its own, on spare ports: nothing here touches the rig that `dev up` runs.
 */
const dir = mkdtempSync(join(tmpdir(), 'meridian-powerdns-'));
const layout = rigLayout({ MERIDIAN_RIG_DIR: dir });
let config: ReturnType<typeof configOn>;

function configOn(port: number, apiPort: number) {
  return {
    ...rigConfigSchema.parse({ clusters: [{ context: 'c' }], release: 'r.yaml', dns: { port, apiPort } }),
    file: join(dir, 'rig.yaml'),
  };
}

// The traffic section of a release, as the rig reads it: two located clients (benchmark subnets, which
// only travel inside EDNS Client Subnet options) and a region on a loopback traffic address.
const traffic = rigTraffic(
  trafficSchema.parse({
    hostname: 'shop.example.test',
    zone: 'example.test',
    ttl: '5s',
    provider: { powerdns: { api: 'http://127.0.0.1:8281', nameservers: ['127.0.0.1:5354'], apiKey: { env: 'K' } } },
    healthCheck: { path: '/healthz', port: 18200 },
    regions: { 'us-east': { addresses: ['127.0.1.1'], location: { latitude: 39, longitude: -77.5 } } },
    clients: [
      { name: 'new-york', subnet: '198.18.1.0/24', location: { latitude: 40.7, longitude: -74 } },
      { name: 'london', subnet: '198.18.2.0/24', location: { latitude: 51.5, longitude: -0.1 } },
    ],
  }),
);

const dns = () => ({ host: '127.0.0.1', port: config.dns.port });
const key = () => readPowerDnsApiKey(layout.dir)!;

async function apiGet(path: string, apiKey: string | undefined): Promise<Response> {
  return fetch(`${powerDnsApiUrl(config)}${path}`, { headers: apiKey === undefined ? {} : { 'X-API-Key': apiKey } });
}

async function patchRecords(rrsets: object[]): Promise<void> {
  const res = await fetch(`${powerDnsApiUrl(config)}/api/v1/servers/localhost/zones/example.test.`, {
    method: 'PATCH',
    headers: { 'X-API-Key': key(), 'content-type': 'application/json' },
    body: JSON.stringify({ rrsets }),
  });
  expect(res.status).toBe(204);
}

/** The TXT strings answered for a name. */
async function txt(name: string, clientSubnet?: string): Promise<string[]> {
  const answer = await queryDns(dns(), { name, type: 'TXT', clientSubnet });
  expect(answer.rcode).toBe('NOERROR');
  return answer.texts;
}

/** The A records answered for a name (src/infra/traffic/dns-query.ts, as the traffic feature asks). */
async function addresses(name: string, clientSubnet?: string): Promise<string[]> {
  const answer = await queryDns(dns(), { name, clientSubnet });
  expect(answer.rcode).toBe('NOERROR');
  return answer.addresses;
}

beforeAll(async () => {
  config = configOn(await freePort(), await freePort());
});

afterAll(async () => {
  await stopPowerDns(layout);
  rmSync(dir, { recursive: true, force: true });
});

describe("the rig's PowerDNS", () => {
  let firstPid: number;

  it('starts, makes its API key (mode 0600, never logged) and answers the API with that key', async () => {
    const started = await startPowerDns(config, layout, traffic);
    expect(started).toMatchObject({ started: true, zoneCreated: true });
    firstPid = started.pid;

    const apiKey = key();
    expect(apiKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(powerDnsApiKeyFile(layout.dir)).mode & 0o777).toBe(0o600);
    expect(statSync(powerDnsFiles(layout).conf).mode & 0o777).toBe(0o600);
    expect(statSync(powerDnsFiles(layout).dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(powerDnsProcess(layout).logFile, 'utf8')).not.toContain(apiKey);

    const res = await apiGet('/api/v1/servers/localhost', apiKey);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ daemon_type: 'authoritative', version: expect.stringMatching(/^4\.7\./) });
  });

  it('refuses a wrong API key and a missing one (401)', async () => {
    expect((await apiGet('/api/v1/servers/localhost', 'not-the-key')).status).toBe(401);
    expect((await apiGet('/api/v1/servers/localhost', undefined)).status).toBe(401);
  });

  it('holds the zone, with its name server answering at 127.0.0.1', async () => {
    const res = await apiGet('/api/v1/servers/localhost/zones/example.test.', key());
    expect(res.status).toBe(200);
    const zone = (await res.json()) as {
      kind: string;
      rrsets: { name: string; type: string; records: { content: string }[] }[];
    };
    expect(zone.kind).toBe('Native');
    expect(zone.rrsets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'example.test.',
          type: 'NS',
          records: [expect.objectContaining({ content: 'ns1.example.test.' })],
        }),
        expect.objectContaining({
          name: 'ns1.example.test.',
          type: 'A',
          records: [expect.objectContaining({ content: '127.0.0.1' })],
        }),
      ]),
    );
    expect(await addresses('ns1.example.test')).toEqual(['127.0.0.1']);
    const soa = zone.rrsets.find((r) => r.type === 'SOA');
    expect(soa?.records[0].content).toMatch(/^ns1\.example\.test\. hostmaster\.example\.test\. /);
  });

  it('keeps running, with its zone and key, when started again with the same config', async () => {
    const before = key();
    const again = await startPowerDns(config, layout, traffic);
    expect(again).toEqual({ started: false, pid: firstPid, zoneCreated: false });
    expect(key()).toBe(before);
    expect(await addresses('ns1.example.test')).toEqual(['127.0.0.1']);
  });

  it('answers a LUA A record written through the API, by where the client is', async () => {
    await patchRecords([
      {
        name: 'shop.example.test.',
        type: 'LUA',
        ttl: 0,
        changetype: 'REPLACE',
        records: [
          {
            content: `A ";if latlon() == '51.500000 -0.100000' then return '127.0.2.1' end return '127.0.1.1'"`,
            disabled: false,
          },
        ],
      },
    ]);
    expect(await addresses('shop.example.test', '198.18.2.0/24')).toEqual(['127.0.2.1']);
    expect(await addresses('shop.example.test', '198.18.1.0/24')).toEqual(['127.0.1.1']);
  });

  it('locates each client subnet from the generated GeoIP database (latlon() in a LUA TXT record)', async () => {
    await patchRecords([
      {
        name: 'where.example.test.',
        type: 'LUA',
        ttl: 0,
        changetype: 'REPLACE',
        records: [{ content: 'TXT "latlon()"', disabled: false }],
      },
    ]);
    // Without location.accuracy_radius in each record, PowerDNS would find no location: 0 0.
    expect(await txt('where.example.test', '198.18.1.0/24')).toEqual(['40.700000 -74.000000']);
    expect(await txt('where.example.test', '198.18.2.77/32')).toEqual(['51.500000 -0.100000']);
    // A subnet the database does not hold, and a question without a client subnet (from 127.0.0.1).
    expect(await txt('where.example.test', '198.18.9.0/24')).toEqual(['0.000000 0.000000']);
    expect(await txt('where.example.test')).toEqual(['0.000000 0.000000']);
  });

  it('reports itself up in `dev status`, with its version, zone and where the key is', async () => {
    expect(await powerDnsHealth(config, layout, 'example.test')).toEqual({
      address: `127.0.0.1:${config.dns.port}`,
      api: powerDnsApiUrl(config),
      up: true,
      version: expect.stringMatching(/^4\.7\./),
      zone: 'example.test',
      apiKeyFile: powerDnsApiKeyFile(layout.dir),
    });
  });

  it('restarts for a changed client list, keeping the zone and its records', async () => {
    const moved = {
      ...traffic,
      clients: [{ name: 'tokyo', subnet: '198.18.3.0/24', latitude: 35.7, longitude: 139.7 }],
    };
    const restarted = await startPowerDns(config, layout, moved);
    expect(restarted).toMatchObject({ started: true, zoneCreated: false });
    expect(restarted.pid).not.toBe(firstPid);
    expect(await txt('where.example.test', '198.18.3.0/24')).toEqual(['35.700000 139.700000']);
    expect(await txt('where.example.test', '198.18.1.0/24')).toEqual(['0.000000 0.000000']);
    expect(await addresses('shop.example.test', '198.18.3.0/24')).toEqual(['127.0.1.1']);
  });

  it('stops', async () => {
    const pid = runningPid(powerDnsProcess(layout))!;
    expect(await stopPowerDns(layout)).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(runningPid(powerDnsProcess(layout))).toBeUndefined();
    await expect(queryDns(dns(), { name: 'ns1.example.test', timeoutMs: 500 })).rejects.toThrow(/did not answer/);
    expect((await powerDnsHealth(config, layout, 'example.test')).up).toBe(false);
    expect(await stopPowerDns(layout)).toBe(false);
  });

  it('refuses to start on a port another program holds, naming the setting', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(config.dns.apiPort, '127.0.0.1', r));
    try {
      await expect(startPowerDns(config, layout, traffic)).rejects.toThrow(
        new RegExp(`${config.dns.apiPort}/tcp \\(dns\\.apiPort\\) already in use.*set dns\\.port and dns\\.apiPort in`),
      );
      expect(runningPid(powerDnsProcess(layout))).toBeUndefined();
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});
