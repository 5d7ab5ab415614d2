import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnreachableError } from '../domain/errors';
import { type DemoRegion, demoRegionsFromRelease } from './demo-regions';
import { type ManagedProcess, readTextOr, runningPid, startDetached, stopProcess, tailOf, waitFor } from './processes';
import type { RigConfig, RigLayout, VersionBehaviour } from './rig-config';
import { userTrafficRpsByRegion } from './user-traffic';

/** What the demo services process reads at start. */
export interface DemoServicesConfig {
  kubeconfig: string;
  regions: DemoRegion[];
  versions: Record<string, VersionBehaviour>;
  /** Rate of each region's synthetic users, requests per second, by region name. */
  userTrafficRps: Record<string, number>;
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

export interface ServiceHealth {
  region: string;
  port: number;
  /** Whether the service answers. */
  up: boolean;
  /** The version the region runs now, as the service reports it. */
  version?: string | null;
}

export async function serviceHealth(region: DemoRegion): Promise<ServiceHealth> {
  try {
    const res = await fetch(`http://127.0.0.1:${region.port}/version`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { region?: string; version?: string | null };
    return { region: region.name, port: region.port, up: res.ok && body.region === region.name, version: body.version };
  } catch {
    return { region: region.name, port: region.port, up: false };
  }
}

/** Starts the demo services unless they run; a config change restarts them. */
export async function startDemoServices(
  config: RigConfig,
  layout: RigLayout,
): Promise<{ started: boolean; regions: DemoRegion[] }> {
  const regions = demoRegionsFromRelease(config.release);
  const proc = demoServicesProcess(layout);
  const wanted: DemoServicesConfig = {
    kubeconfig: layout.kubeconfig,
    regions,
    versions: config.versions,
    userTrafficRps: userTrafficRpsByRegion(regions, config.userTraffic),
    code: codeFingerprint(),
  };
  const configFile = join(layout.dir, 'demo-services.json');
  const text = `${JSON.stringify(wanted, null, 2)}\n`;
  const running = runningPid(proc) !== undefined;
  if (
    running &&
    readTextOr(configFile) === text &&
    (await Promise.all(regions.map(serviceHealth))).every((h) => h.up)
  ) {
    return { started: false, regions };
  }
  if (running) await stopProcess(proc);
  writeFileSync(configFile, text);
  startDetached(proc, process.execPath, [join(__dirname, 'demo-services-main.js'), configFile]);
  const ok = await waitFor(async () => (await Promise.all(regions.map(serviceHealth))).every((h) => h.up), 20_000);
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
