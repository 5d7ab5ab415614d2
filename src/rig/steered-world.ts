import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPowerDnsTraffic, type PowerDnsTrafficSpec, trafficSchema } from '../domain/traffic-spec';
import { powerDnsApiUrl, startPowerDns, stopPowerDns } from './powerdns-server';
import { rigConfigSchema, rigLayout } from './rig-config';
import { readPowerDnsApiKey } from './rig-credentials';
import { freePort } from './scratch-registry';

/** A region of a steered world: its loopback traffic address and where it is. */
export interface WorldRegion {
  address: string;
  latitude: number;
  longitude: number;
}

export interface WorldClient {
  name: string;
  subnet: string;
  latitude: number;
  longitude: number;
}

export interface SteeredWorldOptions {
  regions: Record<string, WorldRegion>;
  clients: readonly WorldClient[];
  /** The traffic section's TTL, health check interval and timeout, as the spec writes them. */
  ttl?: string;
  interval?: string;
  timeout?: string;
  /** More of the traffic section, over what is built here (duringDeploy, ramp, ...). */
  overrides?: Record<string, unknown>;
}

/**
 * A hostname to steer, of its own: a private PowerDNS (the rig's setup, in a temp folder on spare
 * ports) holding example.test, a health endpoint on each region's traffic address whose answer can
 * be turned bad, and the traffic section over them. For the tests and the bench; nothing of the rig's.
 */
export interface SteeredWorld {
  traffic: PowerDnsTrafficSpec;
  /** The traffic section as a spec writes it (before parsing), for release files made from it. */
  input: Record<string, unknown>;
  /** The environment the section's apiKey names, holding the key. */
  env: NodeJS.ProcessEnv;
  apiKey: string;
  dnsPort: number;
  /** Makes a region's /healthz answer 503 (false) or 200 (true). */
  setHealthy(region: string, healthy: boolean): void;
  stop(): Promise<void>;
}

export async function startSteeredWorld(options: SteeredWorldOptions): Promise<SteeredWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-steered-'));
  const layout = rigLayout({ MERIDIAN_RIG_DIR: dir });
  const servers: Server[] = [];
  const stop = async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await stopPowerDns(layout); // the server of this folder's pid file only: none when it never started
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const dnsPort = await freePort();
    const config = {
      ...rigConfigSchema.parse({
        clusters: [{ context: 'c' }],
        release: 'r.yaml',
        dns: { port: dnsPort, apiPort: await freePort() },
      }),
      file: join(dir, 'rig.yaml'),
    };
    await startPowerDns(config, layout, { zone: 'example.test', clients: options.clients });
    const apiKey = readPowerDnsApiKey(layout.dir);
    if (!apiKey) throw new Error(`the private PowerDNS in ${dir} has no API key`);

    const healthPort = await freePort();
    const unhealthy = new Set<string>();
    for (const [name, region] of Object.entries(options.regions)) {
      const server = createServer((_req, res) => {
        res.statusCode = unhealthy.has(name) ? 503 : 200;
        res.end(unhealthy.has(name) ? 'down' : `ok ${name}`);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(healthPort, region.address, resolve);
      });
      servers.push(server);
    }
    const input: Record<string, unknown> = {
      hostname: 'shop.example.test',
      zone: 'example.test',
      ttl: options.ttl ?? '2s',
      provider: {
        powerdns: {
          api: powerDnsApiUrl(config),
          nameservers: [`127.0.0.1:${dnsPort}`],
          apiKey: { env: 'MERIDIAN_POWERDNS_API_KEY' },
        },
      },
      healthCheck: {
        path: '/healthz',
        port: healthPort,
        interval: options.interval ?? '1s',
        timeout: options.timeout ?? '500ms',
      },
      regions: Object.fromEntries(
        Object.entries(options.regions).map(([name, r]) => [
          name,
          { addresses: [r.address], location: { latitude: r.latitude, longitude: r.longitude } },
        ]),
      ),
      clients: options.clients.map(({ name, subnet, latitude, longitude }) => ({
        name,
        subnet,
        location: { latitude, longitude },
      })),
      ...options.overrides,
    };
    const traffic = trafficSchema.parse(input);
    // The world's DNS server is PowerDNS; overrides may change anything else of the section.
    if (!isPowerDnsTraffic(traffic)) throw new Error('a steered world runs PowerDNS: override no provider');
    return {
      traffic,
      input,
      env: { MERIDIAN_POWERDNS_API_KEY: apiKey },
      apiKey,
      dnsPort,
      setHealthy: (region, healthy) => (healthy ? unhealthy.delete(region) : unhealthy.add(region)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
