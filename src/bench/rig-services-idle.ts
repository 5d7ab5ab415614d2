/**
 * Idle CPU of the rig's demo services: one demo-services process (the rig's own program, dist/rig)
 * following N regions spread over the rig's KWOK clusters, each region a namespace with a two-replica
 * Deployment, synthetic users off and nobody calling. Its CPU time is read from /proc/<pid>/stat over a
 * window in which nothing happens, as a share of one core, against the 5% target for 30 regions
 * (issue 15: a polling follower used about 60% of a core there).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import type { DemoRegion } from '../rig/demo-regions';
import { benchRegions, deleteRegionNamespaces, startBenchDemoServices, waitForServices } from './bench-demo-services';
import { figure, type SectionResult } from './figures';

/** The share of a core the issue allows the idle services of a 30-region rig. */
export const idleCpuTarget = 0.05;

export interface IdleCpuOptions {
  /** The rig's kubeconfig. */
  kubeconfig: string;
  /** The rig's cluster contexts; regions go round-robin over them. */
  contexts: readonly string[];
  /** How many regions the services follow. */
  regions: number;
  /** How long the CPU is measured over, once every region reports its version. */
  windowMs: number;
  /** Quiet time before the window (start-up work such as JIT and first lists is over). */
  settleMs?: number;
}

export interface IdleCpuResult {
  regions: number;
  /** API servers the regions are spread over. */
  clusters: number;
  /** The window actually measured. */
  windowMs: number;
  /** User and system CPU time of the services' process in the window. */
  cpuSeconds: number;
  /** cpuSeconds over the window: 1 is one core busy. */
  shareOfCore: number;
  /** Regions whose service reported the Deployment's version (with its ready pods) before the window. */
  regionsFollowed: number;
  /** Resident memory of the process at the end of the window. */
  rssBytes: number;
}

const version = '1.0.0-idle';

export async function measureRigServicesIdle(options: IdleCpuOptions): Promise<IdleCpuResult> {
  const run = Date.now().toString(36);
  const regions = await benchRegions(options.regions, options.contexts, {
    name: 'idle',
    namespace: `bench-idle-${run}`,
  });
  try {
    await Promise.all(regions.map((r) => deployRegion(options.kubeconfig, r)));
    const services = startBenchDemoServices(options.kubeconfig, regions);
    try {
      const regionsFollowed = await waitForServices(services, regions, 90_000, version);
      await sleep(options.settleMs ?? 2_000);
      const pid = services.child.pid!;
      const before = cpuTicks(pid);
      const startedAt = performance.now();
      await sleep(options.windowMs);
      const after = cpuTicks(pid);
      const windowMs = performance.now() - startedAt;
      const cpuSeconds = (after.ticks - before.ticks) / clockTicksPerSecond;
      return {
        regions: regions.length,
        clusters: new Set(regions.map((r) => r.context)).size,
        windowMs,
        cpuSeconds,
        shareOfCore: cpuSeconds / (windowMs / 1000),
        regionsFollowed,
        rssBytes: after.rssBytes,
      };
    } finally {
      services.stop();
    }
  } finally {
    await deleteRegionNamespaces(options.kubeconfig, regions);
  }
}

export function describeRigServicesIdle(r: IdleCpuResult): SectionResult {
  const pct = (share: number) => `${(share * 100).toFixed(2)}%`;
  const text = [
    `rig demo services, idle: ${r.regions} regions on ${r.clusters} API servers (${r.regionsFollowed} reporting their Deployment's version), synthetic users off, nothing calling`,
    `  CPU of the services' process over ${(r.windowMs / 1000).toFixed(1)} s: ${r.cpuSeconds.toFixed(2)} s, ${pct(r.shareOfCore)} of a core (target under ${pct(idleCpuTarget)} for 30 regions; ratio ${(r.shareOfCore / idleCpuTarget).toFixed(2)}x); RSS ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB`,
  ].join('\n');
  return {
    text,
    figures: [
      figure(`rig demo services idle CPU, ${r.regions} regions`, '% of a core', r.shareOfCore * 100, {
        name: 'target',
        value: idleCpuTarget * 100,
      }),
    ],
  };
}

/** USER_HZ: what /proc/<pid>/stat counts CPU time in; 100 on every Linux that Node runs on. */
export const clockTicksPerSecond = 100;

/** A process's user plus system CPU time (in clock ticks) and its resident memory, from /proc. */
export function cpuTicks(pid: number): { ticks: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { ticks: utime + stime, rssBytes: rssPages * 4096 };
}

/** A namespace with a two-replica Deployment of the app, whose pods KWOK makes ready. */
async function deployRegion(kubeconfig: string, region: DemoRegion): Promise<void> {
  const kc = kubeConfigForContext(region.context, kubeconfig);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: region.namespace } } });
  const labels = { app: region.deployment, 'app.kubernetes.io/version': version };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: region.namespace,
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: region.deployment, namespace: region.namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: region.deployment } },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: `rig.local/shop-api:${version}` }] },
        },
      },
    },
  });
}
