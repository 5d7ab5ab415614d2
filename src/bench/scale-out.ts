/**
 * Scale on one worker and across two: the same burst of concurrent releases on a dev server of its own,
 * first with one no-op worker process, then with two sharing the task queue as production workers do.
 * Targets (issue 15): 1,000 releases of 5 regions all succeed with each worker under 1 GiB RSS, and two
 * workers give at least 1.7x one's throughput. On a 2-core machine the server, the client and the
 * workers share the cores, which bounds what a second worker can add; the section prints the CPU count.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { type ConcurrentReleases, measureConcurrentReleases, rssTargetBytes } from './concurrent-releases';
import { figure, type SectionResult } from './figures';
import { stopChild } from '../rig/processes';

/** The throughput ratio two workers should reach over one. */
export const scaleOutTarget = 1.7;

/** One burst on `workers` worker processes. */
export interface ScaleRun extends ConcurrentReleases {
  workers: number;
  /** Each worker process's peak RSS (the kernel's high-water mark), in bytes. */
  workerPeakRssBytes: number[];
}

/** Both bursts. */
export interface ScaleOut {
  cores: number;
  one: ScaleRun;
  two: ScaleRun;
}

/** Meridian's workflows and interceptors, bundled once into `dir` for every worker process. */
async function bundleMeridianWorkflows(dir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [require.resolve('../workflows/sender-identity')],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const codePath = join(dir, 'workflows.js');
  writeFileSync(codePath, code);
  return codePath;
}

/** The worker process's script: beside this module when built, else the build's (tests run the sources). */
function workerScript(): string {
  const built = join(__dirname, 'noop-worker-process.js');
  return existsSync(built) ? built : resolve(__dirname, '..', '..', 'dist', 'bench', 'noop-worker-process.js');
}

/** A worker process's peak RSS from /proc (VmHWM); 0 where /proc has none. */
function peakRssOf(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Starts a no-op worker process on `taskQueue`; resolves once it polls. */
async function startWorker(
  address: string,
  namespace: string,
  taskQueue: string,
  bundle: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [workerScript()], {
    env: {
      PATH: process.env.PATH,
      MERIDIAN_BENCH_ADDRESS: address,
      MERIDIAN_BENCH_NAMESPACE: namespace,
      MERIDIAN_BENCH_TASK_QUEUE: taskQueue,
      MERIDIAN_BENCH_BUNDLE: bundle,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-2000);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`a bench worker process exited (${code}): ${err.trim()}`)));
  });
  return child;
}

/** One burst of `releases` on `workers` fresh worker processes sharing a fresh task queue. */
async function burst(
  server: { client: Client; address: string; namespace: string },
  bundle: string,
  workers: number,
  releases: number,
): Promise<ScaleRun> {
  const taskQueue = `meridian-bench-scale-${workers}-${Date.now().toString(36)}`;
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < workers; i++)
      procs.push(await startWorker(server.address, server.namespace, taskQueue, bundle));
    const peaks = procs.map(() => 0);
    const sample = () => {
      procs.forEach((p, i) => (peaks[i] = Math.max(peaks[i], peakRssOf(p.pid!))));
      return Math.max(...peaks);
    };
    const run = await measureConcurrentReleases({ client: server.client, taskQueue }, { releases, sampleRss: sample });
    sample();
    return { ...run, workers, workerPeakRssBytes: peaks };
  } finally {
    await Promise.all(procs.map((p) => stopChild(p, 15_000)));
  }
}

/** One worker, then two, each on the same burst; `prebuilt` is a workflow bundle to use instead of building one. */
export async function measureScaleOut(
  server: { client: Client; address: string; namespace: string },
  releases: number,
  prebuilt?: string,
): Promise<ScaleOut> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-scale-'));
  try {
    const bundle = prebuilt ?? (await bundleMeridianWorkflows(dir));
    const one = await burst(server, bundle, 1, releases);
    const two = await burst(server, bundle, 2, releases);
    return { cores: cpus().length, one, two };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mib = (bytes: number) => bytes / 2 ** 20;

/** The section's lines and figures. */
export function describeScaleOut(s: ScaleOut): SectionResult {
  const ratio = s.two.regionsPerSecond / s.one.regionsPerSecond;
  const line = (r: ScaleRun) =>
    `${r.workers} worker process${r.workers === 1 ? '' : 'es'}: ${r.succeeded}/${r.releases} releases of ${r.regionsPerRelease} regions succeeded in ${(r.wallMs / 1000).toFixed(1)} s, ` +
    `${r.regionsPerSecond.toFixed(1)} regions/s, peak RSS ${r.workerPeakRssBytes.map((b) => `${mib(b).toFixed(0)} MiB`).join(' and ')}` +
    (r.failures.length ? `; failures: ${r.failures.join('; ')}` : '');
  const text =
    `scale on a dev server of its own, ${s.one.releases} concurrent releases, ${s.cores} cores shared by the server, the client and the workers: ` +
    `${line(s.one)}; ${line(s.two)}; two workers give ${ratio.toFixed(2)}x one's throughput (target ${scaleOutTarget}x)`;
  const name = `scale, ${s.one.releases} releases of ${s.one.regionsPerRelease} regions`;
  const rssTarget = { name: 'target', value: mib(rssTargetBytes) };
  return {
    text,
    figures: [
      figure(`${name}, one worker: succeeded`, 'releases', s.one.succeeded, { name: 'started', value: s.one.releases }),
      figure(`${name}, one worker: throughput`, 'regions/s', s.one.regionsPerSecond),
      figure(`${name}, one worker: peak RSS`, 'MiB', mib(Math.max(...s.one.workerPeakRssBytes)), rssTarget),
      figure(`${name}, two workers: succeeded`, 'releases', s.two.succeeded, {
        name: 'started',
        value: s.two.releases,
      }),
      figure(`${name}, two workers: throughput`, 'regions/s', s.two.regionsPerSecond, {
        name: `one worker x ${scaleOutTarget} (target)`,
        value: s.one.regionsPerSecond * scaleOutTarget,
      }),
      figure(`${name}, two workers: largest peak RSS`, 'MiB', mib(Math.max(...s.two.workerPeakRssBytes)), rssTarget),
    ],
  };
}
