/**
 * A many-region release on the rig, with the example's integration checks (the Korean search must
 * answer within 500 ms): does it pass without an operator's resume? Issue 15 saw a 30-region release
 * need 7 resumes when the rig's demo services, polling every region's API server, answered in 1.3-1.7 s.
 *
 * The bench runs its own copy of the demo services (the rig's program, its regions on free ports, the
 * rig config's synthetic users at their rate) and its own worker on a private task queue, so the rig's
 * services and other workers are left alone. It resumes every halt as the operator did, up to a limit,
 * and counts them; meanwhile a prober asks every region's endpoint what the check asks, every second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { releaseInputOf } from '../client/commands/start';
import { isTerminalReleasePhase, type ReleaseStatus } from '../domain/release-status';
import { loadRelease } from '../infra/release-files/release-file';
import type { RigConfig } from '../rig/rig-config';
import { userTrafficRpsByRegion } from '../rig/user-traffic';
import { abortSignal, releaseWorkflowType, resumeSignal, statusQuery } from '../workflows/definitions';
import { benchRegions, deleteRegionNamespaces, startBenchDemoServices, waitForServices } from './bench-demo-services';
import { figure, median, percentile, type SectionResult } from './figures';
import { clockTicksPerSecond, cpuTicks } from './rig-services-idle';
import { syntheticReleaseYaml } from './synthetic-release';

const meridianBin = resolve(__dirname, '..', '..', 'bin', 'meridian');

/** The latency limit of the example's checks (its Korean search). */
export const checkLatencyLimitMs = 500;

export interface ReleaseChecksOptions {
  client: Client;
  /** The rig's config: its release names the clusters and their registries; its users' rate is used. */
  rig: RigConfig;
  kubeconfig: string;
  /** Environment of the worker the bench starts (TEMPORAL_ADDRESS and the like). */
  env: NodeJS.ProcessEnv;
  regions: number;
  /** Most regions of a wave at once. */
  maxParallel: number;
  /** Bake after each wave. */
  bakeMs: number;
  /** Halts resumed before the release is aborted. */
  maxResumes?: number;
  /** Where the worker's log goes. */
  logDir: string;
}

export interface ReleaseChecksResult {
  regions: number;
  waves: number;
  /** How the release ended. */
  phase: ReleaseStatus['phase'];
  /** Halts the bench resumed. */
  resumes: number;
  /** Why each halt happened: the failed regions and their errors. */
  halts: string[];
  /** Start to end of the release. */
  durationMs: number;
  /** What the prober measured, GET /search at every region's endpoint every second during the release. */
  probeMs: number[];
  /** Total rate of the regions' synthetic users, requests per second. */
  userRps: number;
  /** CPU of the demo services' process during the release, as a share of one core. */
  servicesCpuShare: number;
  /** The machine's 1-minute load average at the end, and its cores: how busy the machine was around it. */
  loadAverage: number;
  cores: number;
}

export async function measureReleaseChecks(options: ReleaseChecksOptions): Promise<ReleaseChecksResult> {
  const run = Date.now().toString(36);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-release-checks-'));
  const example = loadRelease(options.rig.release).spec.spec.regions;
  const contexts = [...new Set(example.map((r) => r.cluster.context))];
  const registryOf = new Map(example.map((r) => [r.cluster.context, r.registry]));
  const regions = await benchRegions(options.regions, contexts, { name: 'region', namespace: `bench-rel-${run}` });
  // The example's release, made N regions wide, each region on its made-up namespace and port.
  const raw = parse(
    syntheticReleaseYaml({ regions: options.regions, traits: 'uniform', maxParallel: options.maxParallel }),
  ) as {
    metadata: { version: string };
    spec: { regions: Record<string, unknown>[] };
  };
  raw.metadata.version = `2.4.0-checks.${run}`;
  raw.spec.regions = raw.spec.regions.map((r, i) => ({
    ...r,
    cluster: { context: regions[i].context, namespace: regions[i].namespace },
    registry: registryOf.get(regions[i].context),
    endpoint: `http://127.0.0.1:${regions[i].port}`,
  }));
  const file = join(dir, 'release.yaml');
  writeFileSync(file, stringify(raw));
  const { input } = releaseInputOf(
    loadRelease(file),
    { bakeMs: options.bakeMs, canarySoakMs: 0 },
    'rig release checks bench',
    Date.now(),
  );
  const rps = userTrafficRpsByRegion(regions, { ...options.rig.userTraffic, regions: {} });
  const services = startBenchDemoServices(options.kubeconfig, regions, options.rig.userTraffic.enabled ? rps : {});
  let worker: ChildProcess | undefined;
  const probeMs: number[] = [];
  let probing = true;
  try {
    await waitForServices(services, regions, 60_000);
    const taskQueue = `meridian-release-checks-${run}`;
    mkdirSync(options.logDir, { recursive: true });
    const log = openSync(join(options.logDir, `release-checks-${run}.log`), 'a');
    worker = spawn(process.execPath, [meridianBin, 'worker', '--task-queue', taskQueue], {
      env: { ...options.env, KUBECONFIG: options.kubeconfig, MERIDIAN_LOG_LEVEL: 'warn' },
      stdio: ['ignore', log, log],
    });
    const probe = (async () => {
      while (probing) {
        const next = sleep(1_000);
        await Promise.all(
          regions.map(async (r) => {
            const started = performance.now();
            try {
              const res = await fetch(`http://127.0.0.1:${r.port}/search?q=%EA%B2%B0%EC%A0%9C`, {
                signal: AbortSignal.timeout(5_000),
              });
              await res.arrayBuffer();
              probeMs.push(performance.now() - started);
            } catch {
              probeMs.push(5_000);
            }
          }),
        );
        await next;
      }
    })();
    const started = Date.now();
    const cpuBefore = cpuTicks(services.child.pid!).ticks;
    const handle = await options.client.workflow.start(releaseWorkflowType, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    const halts: string[] = [];
    const by = `bench@${hostname()}`;
    let status: ReleaseStatus;
    for (;;) {
      await sleep(1_000);
      status = await handle.query(statusQuery);
      if (isTerminalReleasePhase(status.phase)) break;
      if (status.phase !== 'Halted') continue;
      halts.push(
        status.regions
          .filter((r) => r.error && !['Succeeded', 'Skipped'].includes(r.phase))
          .map((r) => `${r.name}: ${r.error}`)
          .join('; ') ||
          (status.reason ?? 'halted'),
      );
      if (halts.length > (options.maxResumes ?? 10)) {
        await handle.signal(abortSignal, { by, reason: 'bench: too many halts' });
      } else {
        await handle.signal(resumeSignal, { by, reason: 'bench: resumed as an operator would' });
      }
      // The next look after the signal took effect.
      while ((await handle.query(statusQuery)).phase === 'Halted') await sleep(250);
    }
    const cpuSeconds = (cpuTicks(services.child.pid!).ticks - cpuBefore) / clockTicksPerSecond;
    probing = false;
    await probe;
    return {
      regions: regions.length,
      waves: input.plan?.waves.length ?? 0,
      phase: status.phase,
      resumes: Math.min(halts.length, options.maxResumes ?? 10),
      halts,
      durationMs: Date.now() - started,
      probeMs,
      userRps: options.rig.userTraffic.enabled ? Object.values(rps).reduce((a, b) => a + b, 0) : 0,
      servicesCpuShare: cpuSeconds / ((Date.now() - started) / 1000),
      loadAverage: loadavg()[0],
      cores: cpus().length,
    };
  } finally {
    probing = false;
    worker?.kill('SIGTERM');
    services.stop();
    rmSync(dir, { recursive: true, force: true });
    await deleteRegionNamespaces(options.kubeconfig, regions);
  }
}

export function describeReleaseChecks(r: ReleaseChecksResult): SectionResult {
  const p99 = percentile(r.probeMs, 99);
  const over = r.probeMs.filter((ms) => ms > checkLatencyLimitMs).length;
  const lines = [
    `${r.regions}-region release on the rig (${r.waves} waves), the example's checks (search within ${checkLatencyLimitMs} ms), synthetic users at ${r.userRps} requests/s in all: ${r.phase} in ${(r.durationMs / 1000).toFixed(0)} s with ${r.resumes} operator resumes (target 0)`,
    `  GET /search at every region during the release, ${r.probeMs.length} requests: median ${median(r.probeMs).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${Math.max(...r.probeMs).toFixed(0)} ms; ${over} over ${checkLatencyLimitMs} ms (p99 ratio ${(p99 / checkLatencyLimitMs).toFixed(2)}x the limit)`,
    `  the demo services' process used ${(r.servicesCpuShare * 100).toFixed(1)}% of a core meanwhile; machine load average ${r.loadAverage.toFixed(1)} on ${r.cores} cores at the end`,
    ...r.halts.map((h, i) => `  halt ${i + 1}: ${h}`),
  ];
  return {
    text: lines.join('\n'),
    figures: [
      figure(`${r.regions}-region release on the rig: operator resumes`, 'resumes', r.resumes),
      figure(`${r.regions}-region release on the rig: endpoint latency p99`, 'ms', p99, {
        name: 'check latency limit',
        value: checkLatencyLimitMs,
      }),
    ],
  };
}
