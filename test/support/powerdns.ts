import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trafficSchema, type TrafficSpec } from '../../src/domain/traffic-spec';
import { powerDnsApiUrl, startPowerDns, stopPowerDns } from '../../src/rig/powerdns-server';
import { rigConfigSchema, rigLayout } from '../../src/rig/rig-config';
import { readPowerDnsApiKey } from '../../src/rig/rig-credentials';
import { freePort } from './registry';

/** Three regions on loopback traffic addresses, and a client population near each (plus one in between). */
export const steeredRegions = {
  'us-east': { address: '127.0.71.1', latitude: 39.0, longitude: -77.5 },
  'eu-west': { address: '127.0.72.1', latitude: 53.3, longitude: -6.3 },
  'ap-northeast-2': { address: '127.0.73.1', latitude: 37.6, longitude: 127.0 },
} as const;
export type SteeredName = keyof typeof steeredRegions;

export const clients = [
  { name: 'new-york', subnet: '198.18.1.0/24', location: { latitude: 40.7, longitude: -74.0 } },
  { name: 'london', subnet: '198.18.2.0/24', location: { latitude: 51.5, longitude: -0.1 } },
  { name: 'tokyo', subnet: '198.18.3.0/24', location: { latitude: 35.7, longitude: 139.7 } },
];

/**
 * A real PowerDNS (the rig's, in a folder of its own on spare ports) holding example.test, and a
 * health endpoint on each region's traffic address whose answer a test can turn bad.
 */
export interface PowerDnsRig {
  traffic: TrafficSpec;
  /** The traffic section as a spec writes it (before parsing), for release files made from it. */
  input: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  apiKey: string;
  dnsPort: number;
  /** Makes a region's /healthz answer 503 (false) or 200 (true). */
  setHealthy(region: SteeredName, healthy: boolean): void;
  stop(): Promise<void>;
}

export async function startPowerDnsRig(overrides: Record<string, unknown> = {}): Promise<PowerDnsRig> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-traffic-'));
  const layout = rigLayout({ MERIDIAN_RIG_DIR: dir });
  const dnsPort = await freePort();
  const config = {
    ...rigConfigSchema.parse({
      clusters: [{ context: 'c' }],
      release: 'r.yaml',
      dns: { port: dnsPort, apiPort: await freePort() },
    }),
    file: join(dir, 'rig.yaml'),
  };
  const geo = clients.map((c) => ({ name: c.name, subnet: c.subnet, ...c.location }));
  await startPowerDns(config, layout, { zone: 'example.test', clients: geo });
  const apiKey = readPowerDnsApiKey(layout.dir)!;

  const healthPort = await freePort();
  const unhealthy = new Set<string>();
  const servers: Server[] = [];
  for (const [name, region] of Object.entries(steeredRegions)) {
    const server = createServer((req, res) => {
      res.statusCode = unhealthy.has(name) ? 503 : 200;
      res.end(unhealthy.has(name) ? 'down' : `ok ${name}`);
    });
    await new Promise<void>((resolve) => server.listen(healthPort, region.address, resolve));
    servers.push(server);
  }
  const input = {
    hostname: 'shop.example.test',
    zone: 'example.test',
    ttl: '2s',
    provider: {
      powerdns: {
        api: powerDnsApiUrl(config),
        nameservers: [`127.0.0.1:${dnsPort}`],
        apiKey: { env: 'MERIDIAN_POWERDNS_API_KEY' },
      },
    },
    healthCheck: { path: '/healthz', port: healthPort, interval: '1s', timeout: '500ms' },
    duringDeploy: 'drain',
    ramp: ['10%', '50%', '100%'],
    regions: Object.fromEntries(
      Object.entries(steeredRegions).map(([name, r]) => [
        name,
        { addresses: [r.address], location: { latitude: r.latitude, longitude: r.longitude } },
      ]),
    ),
    clients,
    ...overrides,
  };
  const traffic = trafficSchema.parse(input);
  return {
    traffic,
    input,
    env: { MERIDIAN_POWERDNS_API_KEY: apiKey },
    apiKey,
    dnsPort,
    setHealthy: (region, healthy) => (healthy ? unhealthy.delete(region) : unhealthy.add(region)),
    stop: async () => {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await stopPowerDns(layout);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
