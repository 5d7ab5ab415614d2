/**
 * A private copy of the rig's demo services for a bench: the rig's own program (dist/rig), following
 * regions the bench makes up on the rig's clusters, on free loopback ports. The rig's own services, and
 * whoever uses them, are left alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import type { DemoRegion } from '../rig/demo-regions';
import type { DemoServicesConfig } from '../rig/demo-services';
import { waitFor } from '../rig/processes';

/** The demo services' compiled entry point: dist/ holds it for the bench and for tests run from src/. */
const servicesMain = resolve(__dirname, '..', '..', 'dist', 'rig', 'demo-services-main.js');

/** Ports nobody listens on now, on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const s = createServer();
          s.once('error', fail);
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

/**
 * `n` regions of the app `shop-api`, named `<name>-<i>` from 0, each in namespace `<namespace>-<i>` of
 * one of `contexts` in turn, on free ports.
 */
export async function benchRegions(
  n: number,
  contexts: readonly string[],
  names: { name: string; namespace: string },
): Promise<DemoRegion[]> {
  const ports = await freePorts(n);
  return ports.map((port, i) => ({
    name: `${names.name}-${i}`,
    context: contexts[i % contexts.length],
    namespace: `${names.namespace}-${i}`,
    deployment: 'shop-api',
    port,
    role: 'production',
    traits: { traffic: 'low', scripts: ['Latin'], mobileShare: 0, apis: [] },
  }));
}

/** A running demo-services process of the bench's own. */
export interface BenchDemoServices {
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr: () => string;
  /** Ends the process and removes its config. */
  stop: () => void;
}

/** Starts the rig's demo-services program for `regions` (synthetic users at `userTrafficRps`, none by default). */
export function startBenchDemoServices(
  kubeconfig: string,
  regions: DemoRegion[],
  userTrafficRps: Record<string, number> = {},
): BenchDemoServices {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-services-'));
  const config: DemoServicesConfig = {
    kubeconfig,
    regions,
    versions: {},
    userTrafficRps: Object.fromEntries(regions.map((r) => [r.name, userTrafficRps[r.name] ?? 0])),
    code: 'bench',
  };
  const configFile = join(dir, 'demo-services.json');
  writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(process.execPath, [servicesMain, configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    child,
    stderr: () => stderr,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The version a region's service reports, or undefined while it does not answer. */
export async function reportedVersion(region: DemoRegion): Promise<string | null | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${region.port}/version`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { version?: string | null }).version;
  } catch {
    return undefined;
  }
}

/**
 * Waits until every region's service answers (with `version`, when given) or the process exits; throws
 * with its stderr if it exited. Returns how many regions were ready.
 */
export async function waitForServices(
  services: BenchDemoServices,
  regions: readonly DemoRegion[],
  timeoutMs: number,
  version?: string,
): Promise<number> {
  const ready = async () =>
    (await Promise.all(regions.map(reportedVersion))).filter((v) =>
      version === undefined ? v !== undefined : v === version,
    ).length;
  await waitFor(async () => (await ready()) === regions.length || services.child.exitCode !== null, timeoutMs, 500);
  if (services.child.exitCode !== null)
    throw new Error(`the demo services exited (${services.child.exitCode}): ${services.stderr().trim()}`);
  return ready();
}

/** Deletes the regions' namespaces (what the bench or its release made there goes with them). */
export async function deleteRegionNamespaces(kubeconfig: string, regions: readonly DemoRegion[]): Promise<void> {
  await Promise.all(
    regions.map((r) =>
      kubeConfigForContext(r.context, kubeconfig)
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: r.namespace })
        .catch(() => undefined),
    ),
  );
}
