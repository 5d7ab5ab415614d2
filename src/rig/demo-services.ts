import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnreachableError } from '../domain/errors';
import { type DemoRegion, demoRegionsFromRelease } from './demo-regions';
import { demoServiceAddresses, hostPort } from './demo-service';
import { powerDnsAddress } from './powerdns-server';
import { type ManagedProcess, readTextOr, runningPid, startDetached, stopProcess, tailOf, waitFor } from './processes';
import type { RigConfig, RigLayout, VersionBehaviour } from './rig-config';
import { type RegionTrafficAddresses, type RigTraffic, rigTrafficFromRelease } from './rig-traffic';
import { type UserRoute, userRoutes } from './user-routes';
import { type UserTrafficState, userTrafficRpsByRegion } from './user-traffic';

/** What the demo services process reads at start. */
export interface DemoServicesConfig {
  kubeconfig: string;
  regions: DemoRegion[];
  versions: Record<string, VersionBehaviour>;
  /** Rate of each region's synthetic users, requests per second, by region name. */
  userTrafficRps: Record<string, number>;
  /** Where regions also answer (spec.traffic): their traffic addresses, on their health check's port. */
  traffic?: DemoTraffic;
  /** The regions whose users resolve the release's hostname instead of calling their endpoint, by region name. */
  userRoutes?: Record<string, UserRoute>;
  /** Fingerprint of the compiled rig code, so that `dev up` after a build restarts the services. */
  code: string;
}

export function demoServicesProcess(layout: RigLayout): ManagedProcess {
  return {
    name: 'demo-services',
    pidFile: join(layout.dir, 'demo-services.pid'),
    logFile: join(layout.logs, 'demo-services.log'),
  };
}

/** The traffic addresses of the regions behind the release's hostname (loopback), by region name. */
export type DemoTraffic = Record<string, RegionTrafficAddresses>;

/** What of a release's spec.traffic the demo services serve: nothing for a release without it. */
export function demoTraffic(traffic: RigTraffic | undefined): DemoTraffic | undefined {
  if (!traffic || Object.keys(traffic.regions).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(traffic.regions).map(([name, r]) => [name, { port: r.port, addresses: r.addresses }]),
  );
}

/** One region's traffic addresses, if it has any. */
export function regionTraffic(traffic: DemoTraffic | undefined, region: string): RegionTrafficAddresses | undefined {
  return traffic && Object.hasOwn(traffic, region) && traffic[region].addresses.length ? traffic[region] : undefined;
}

export interface ServiceHealth {
  region: string;
  port: number;
  /** Whether the service answers, on its endpoint and on every traffic address. */
  up: boolean;
  /** The version the region runs now, as the service reports it. */
  version?: string | null;
  /** The region's traffic addresses (`host:port`) and whether each answers as the region. */
  traffic?: { address: string; up: boolean }[];
  /** Where the region's synthetic users' requests went, as its `/_rig/user-traffic` says. */
  users?: UsersSeen;
}

/** A short view of a region's synthetic users (`meridian dev status`). */
export interface UsersSeen {
  resolve: 'direct' | 'dns';
  /** With `dns`: the client population they belong to. */
  population?: string;
  /** Requests sent, by the region that got them. */
  sentTo: Record<string, number>;
  /** With `dns`: lookups that failed. */
  dnsFailures?: number;
}

/** What the region's synthetic users report, if the service answers. */
async function usersAt(port: number): Promise<UsersSeen | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/_rig/user-traffic`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    const state = (await res.json()) as UserTrafficState;
    return {
      resolve: state.resolve,
      ...(state.dns ? { population: state.dns.population.name, dnsFailures: state.dns.failures } : {}),
      sentTo: Object.fromEntries(Object.entries(state.byRegion ?? {}).map(([region, c]) => [region, c.sent])),
    };
  } catch {
    return undefined;
  }
}

/** What the service at `host:port` reports, if it answers as `region`. */
async function reportAt(host: string, port: number, region: string): Promise<{ up: boolean; version?: string | null }> {
  try {
    const res = await fetch(`http://${hostPort(host, port)}/version`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { region?: string; version?: string | null };
    return { up: res.ok && body.region === region, version: body.version };
  } catch {
    return { up: false };
  }
}

export async function serviceHealth(
  region: DemoRegion,
  traffic?: { port: number; addresses: readonly string[] },
): Promise<ServiceHealth> {
  const [endpoint, ...others] = demoServiceAddresses(region, traffic);
  const [users, main, ...rest] = await Promise.all([
    usersAt(region.port),
    ...[endpoint, ...others].map(({ host, port }) => reportAt(host, port, region.name)),
  ]);
  const health: ServiceHealth = {
    region: region.name,
    port: region.port,
    up: main.up && rest.every((r) => r.up),
    ...(main.version !== undefined ? { version: main.version } : {}),
    ...(users ? { users } : {}),
  };
  if (others.length) health.traffic = others.map((a, i) => ({ address: hostPort(a.host, a.port), up: rest[i].up }));
  return health;
}

/** Every region's health, traffic addresses included. */
export async function servicesHealth(
  regions: readonly DemoRegion[],
  traffic: DemoTraffic | undefined,
): Promise<ServiceHealth[]> {
  return Promise.all(regions.map((r) => serviceHealth(r, regionTraffic(traffic, r.name))));
}

/** Starts the demo services unless they run; a config change restarts them. */
export async function startDemoServices(
  config: RigConfig,
  layout: RigLayout,
): Promise<{ started: boolean; regions: DemoRegion[] }> {
  const regions = demoRegionsFromRelease(config.release);
  const rigTraffic = rigTrafficFromRelease(config.release);
  const traffic = demoTraffic(rigTraffic);
  const routes = userRoutes(rigTraffic, regions, config.userTraffic, powerDnsAddress(config));
  const proc = demoServicesProcess(layout);
  const wanted: DemoServicesConfig = {
    kubeconfig: layout.kubeconfig,
    regions,
    versions: config.versions,
    userTrafficRps: userTrafficRpsByRegion(regions, config.userTraffic),
    ...(traffic ? { traffic } : {}),
    ...(Object.keys(routes).length ? { userRoutes: routes } : {}),
    code: codeFingerprint(),
  };
  const allUp = async () => (await servicesHealth(regions, traffic)).every((h) => h.up);
  const configFile = join(layout.dir, 'demo-services.json');
  const text = `${JSON.stringify(wanted, null, 2)}\n`;
  const running = runningPid(proc) !== undefined;
  if (running && readTextOr(configFile) === text && (await allUp())) {
    return { started: false, regions };
  }
  if (running) await stopProcess(proc);
  writeFileSync(configFile, text);
  startDetached(proc, process.execPath, [join(__dirname, 'demo-services-main.js'), configFile]);
  const ok = await waitFor(allUp, 20_000);
  if (!ok)
    throw new UnreachableError(`the demo services did not answer within 20s; their log ends:\n${tailOf(proc.logFile)}`);
  return { started: true, regions };
}

/** A hash of the compiled modules next to this one (dist/rig): any change of the services' code changes it. */
function codeFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(__dirname)
    .filter((f) => f.endsWith('.js'))
    .sort())
    hash.update(file).update(readFileSync(join(__dirname, file)));
  return hash.digest('hex').slice(0, 16);
}

export async function stopDemoServices(layout: RigLayout): Promise<boolean> {
  return stopProcess(demoServicesProcess(layout));
}
