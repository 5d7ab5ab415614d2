import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyImage, verifyImage } from '../activities/registry/copy-image';
import { readImageTree } from '../activities/registry/read-image-tree';
import { RegistryClient } from '../activities/registry/registry-client';
import { pushDemoImage } from '../rig/demo-image';
import { type ScratchRegistry, startScratchRegistry } from '../rig/scratch-registry';
import { requireTool } from '../rig/toolchain';

/**
 * Image replication against `skopeo copy --all`, run the way a release runs it: one source registry,
 * the image copied to three target registries at once (Meridian: three copyImage calls in one process;
 * skopeo: three processes). Every registry is a scratch docker-registry on loopback with storage of its
 * own, and each tool gets fresh empty targets each round, so neither finds the other's blobs.
 *
 * Two scenarios per turn, on the same targets: the full image (version A) into empty registries, then
 * version B, which shares every layer with A but the last one of each platform, into registries that
 * hold A. Tools alternate who goes first; medians over the rounds are compared. After every copy each
 * target's manifest digest is checked against the source's: a copy that lands something else throws.
 */

/** Who copies. */
export type Copier = 'meridian' | 'skopeo';

/** One copy of an image to every target at once. */
export interface CopyRun {
  /** From the first copy's start to the last one's end. */
  wallMs: number;
  /**
   * Peak resident memory. Meridian: its whole process (the bench included) while it copied; skopeo: the
   * sum of its processes' peaks, an upper bound on what they held at once.
   */
  peakRssBytes: number;
  /** Meridian: the process's resident memory when the copy started. skopeo: its largest process's peak. */
  otherRssBytes: number;
  /** User and system CPU time of the copier; undefined when it could not be measured. */
  cpuMs?: number;
  /** The manifest digest every target holds afterwards, checked to be the source's. */
  digest: string;
}

/** One turn of both copiers: the full image into empty targets, then the update into targets holding it. */
export interface CopierTurn {
  full: CopyRun;
  shared: CopyRun;
}

export interface ReplicationRound {
  /** Which copier took its turn first. */
  first: Copier;
  meridian: CopierTurn;
  skopeo: CopierTurn;
}

/** One scenario's medians, side by side. */
export interface ScenarioFigures {
  /** Bytes of blobs each target had to receive. */
  bytesPerTarget: number;
  /** Median wall time of Meridian's copies. */
  meridianMs: number;
  /** Median wall time of skopeo's copies. */
  skopeoMs: number;
  /** meridianMs / skopeoMs: 1 or less is the target, below 1 when layers are shared. */
  ratio: number;
  /** Bytes received by all targets over the median wall time, in MB (10^6 bytes) per second. */
  meridianMBps: number;
  skopeoMBps: number;
  /** Highest peakRssBytes over the rounds. */
  meridianPeakRssBytes: number;
  skopeoPeakRssBytes: number;
  /** Meridian: highest RSS at a copy's start; skopeo: largest single process. */
  meridianBaseRssBytes: number;
  skopeoLargestProcessRssBytes: number;
  /** Median CPU time, when known. */
  meridianCpuMs?: number;
  skopeoCpuMs?: number;
}

export interface ReplicationComparison {
  /** The image, version A. */
  image: { platforms: string[]; layers: number; sharedLayers: number; blobs: number; bytes: number; digest: string };
  /** Version B: what it has that A has not. */
  update: { newBlobs: number; newBytes: number; digest: string };
  /** Target registries each copy goes to. */
  registries: number;
  rounds: ReplicationRound[];
  full: ScenarioFigures;
  shared: ScenarioFigures;
}

export interface ReplicationComparisonOptions {
  /** Distinct blob bytes of the image, roughly (tar and gzip framing add a little). Default 200 MB. */
  totalBytes?: number;
  /** Layers per platform. Default 6. */
  layers?: number;
  /** How many of the first layers every platform shares. Default 2; fewer than `layers`. */
  sharedLayers?: number;
  /** Default linux/amd64 and linux/arm64. */
  platforms?: string[];
  /** Target registries. Default 3, as the example release has. */
  registries?: number;
  /** Turns each copier takes. Default 3. */
  rounds?: number;
}

const REPOSITORY = 'bench/app';
const TAG_A = '1.0.0';
const TAG_B = '1.1.0';
/** GNU time (Debian package `time`): the peak RSS and CPU time of a child, which Node does not report. */
const GNU_TIME = '/usr/bin/time';
const RSS_SAMPLE_MS = 20;

/** Pushes both versions to a scratch source, then lets each copier take its turns; see the module comment. */
export async function compareWithSkopeo(options: ReplicationComparisonOptions = {}): Promise<ReplicationComparison> {
  const layers = options.layers ?? 6;
  const sharedLayers = options.sharedLayers ?? Math.min(2, layers - 1);
  const platforms = options.platforms ?? ['linux/amd64', 'linux/arm64'];
  const registries = options.registries ?? 3;
  if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`layers: expected 1 or more, got ${layers}`);
  if (!Number.isInteger(sharedLayers) || sharedLayers < 0 || sharedLayers >= layers) {
    throw new RangeError(`sharedLayers: expected 0 to ${layers - 1}, so that the last layer is each platform's own, got ${sharedLayers}`);
  }
  const skopeo = requireTool('skopeo');
  const sizesA = layerSizes(options.totalBytes ?? 200e6, layers, sharedLayers, platforms.length);
  // A layer's content comes from its size among other things: one byte more in the last layer gives
  // every platform a new last layer and keeps the rest.
  const sizesB = sizesA.map((n, i) => (i === layers - 1 ? n + 1 : n));

  const source = await startScratchRegistry();
  try {
    const push = (tag: string, layerBytes: number[]) =>
      pushDemoImage({ registry: source.host, repository: REPOSITORY, tag, platforms, layerBytes, sharedLayers, seed: 'meridian-bench-images' });
    const a = await push(TAG_A, sizesA);
    const b = await push(TAG_B, sizesB);
    const update = await blobsAdded(source.host, TAG_A, TAG_B);

    const rounds: ReplicationRound[] = [];
    for (let i = 0; i < (options.rounds ?? 3); i++) {
      const order: Copier[] = i % 2 === 0 ? ['meridian', 'skopeo'] : ['skopeo', 'meridian'];
      const turns: Partial<Record<Copier, CopierTurn>> = {};
      for (const copier of order) {
        turns[copier] = await takeTurn(copier, skopeo, source.host, registries, { a: a.digest, b: b.digest });
      }
      rounds.push({ first: order[0], meridian: turns.meridian!, skopeo: turns.skopeo! });
    }
    return {
      image: { platforms: a.platforms, layers, sharedLayers, blobs: a.blobs, bytes: a.bytes, digest: a.digest },
      update: { ...update, digest: b.digest },
      registries,
      rounds,
      full: figures(rounds, (t) => t.full, a.bytes, registries),
      shared: figures(rounds, (t) => t.shared, update.newBytes, registries),
    };
  } finally {
    await source.stop();
  }
}

/** The bench's output: a heading, a line per scenario, and the rounds. */
export function describeReplicationComparison(c: ReplicationComparison): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const cpu = (ms: number | undefined) => (ms === undefined ? 'unknown' : s(ms));
  const { image } = c;
  const scenario = (name: string, f: ScenarioFigures, target: string) =>
    `   ${name}: Meridian median ${s(f.meridianMs)} (${f.meridianMBps.toFixed(0)} MB/s), skopeo median ${s(f.skopeoMs)} (${f.skopeoMBps.toFixed(0)} MB/s); ` +
    `ratio ${f.ratio.toFixed(2)}x skopeo (target: ${target}); ` +
    `peak RSS Meridian ${mib(f.meridianPeakRssBytes)} (whole process, ${mib(f.meridianBaseRssBytes)} of it before the copy), ` +
    `skopeo ${c.registries} processes ${mib(f.skopeoPeakRssBytes)} summed (largest ${mib(f.skopeoLargestProcessRssBytes)}); ` +
    `CPU median Meridian ${cpu(f.meridianCpuMs)}, skopeo ${cpu(f.skopeoCpuMs)}`;
  const each = c.rounds
    .map((r) => `${r.first} first: ${s(r.meridian.full.wallMs)} vs ${s(r.skopeo.full.wallMs)} / ${s(r.meridian.shared.wallMs)} vs ${s(r.skopeo.shared.wallMs)}`)
    .join('; ');
  return [
    `image replication vs skopeo copy --all: ${image.platforms.length} platforms x ${image.layers} layers (first ${image.sharedLayers} shared), ` +
      `${image.blobs} blobs, ${mb(image.bytes)}, from one docker-registry to ${c.registries} at once on loopback (Meridian: ${c.registries} copyImage calls in its process; ` +
      `skopeo: ${c.registries} processes, their start included), fresh targets per turn, ${c.rounds.length} rounds alternating who goes first; every target's digest checked against the source's:`,
    scenario(`full image into empty registries (${mb(c.full.bytesPerTarget)} per target)`, c.full, '1.0x or less'),
    scenario(`update sharing all but ${c.update.newBlobs - image.platforms.length} layers... `.length ? `update into registries holding the previous version (${c.update.newBlobs} new blobs, ${mb(c.shared.bytesPerTarget)} per target)` : '', c.shared, 'below 1.0x'),
    `   rounds, Meridian vs skopeo, full / update: ${each}`,
  ].join('\n');
}

/**
 * Contents sizes of one platform's layers, base first, largest first (as real images are): layer i
 * weighs `layers - i`, and the weights of the distinct layers (shared ones once, the others once per
 * platform) add up to `totalBytes`.
 */
function layerSizes(totalBytes: number, layers: number, sharedLayers: number, platforms: number): number[] {
  const weights = Array.from({ length: layers }, (_, i) => layers - i);
  const units = weights.reduce((sum, w, i) => sum + (i < sharedLayers ? w : w * platforms), 0);
  return weights.map((w) => Math.max(1, Math.floor((totalBytes * w) / units)));
}

/** The blobs of `to` that `from` lacks, counted once each. */
async function blobsAdded(registry: string, from: string, to: string): Promise<{ newBlobs: number; newBytes: number }> {
  const client = new RegistryClient(registry);
  const old = new Set((await readImageTree(client, REPOSITORY, from)).blobs.map((b) => b.digest));
  const added = (await readImageTree(client, REPOSITORY, to)).blobs.filter((b) => !old.has(b.digest));
  return { newBlobs: added.length, newBytes: added.reduce((sum, b) => sum + b.size, 0) };
}

/** Fresh targets; the full image (A), then the update (B), each checked at every target; targets removed. */
async function takeTurn(copier: Copier, skopeo: string, source: string, registries: number, digests: { a: string; b: string }): Promise<CopierTurn> {
  const started = await Promise.allSettled(Array.from({ length: registries }, () => startScratchRegistry()));
  const targets = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const copy = copier === 'meridian' ? copyWithMeridian : (src: string, dst: string[], tag: string) => copyWithSkopeo(skopeo, src, dst, tag);
    const full = await copy(source, hosts(targets), TAG_A);
    await checkTargets(copier, targets, TAG_A, digests.a);
    const shared = await copy(source, hosts(targets), TAG_B);
    await checkTargets(copier, targets, TAG_B, digests.b);
    return { full: { ...full, digest: digests.a }, shared: { ...shared, digest: digests.b } };
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
}

const hosts = (registries: ScratchRegistry[]) => registries.map((r) => r.host);

async function checkTargets(copier: Copier, targets: ScratchRegistry[], tag: string, expected: string): Promise<void> {
  for (const target of targets) {
    const found = await verifyImage({ ref: { registry: target.host, repository: REPOSITORY, tag }, expectedDigest: expected });
    if (!found.present) {
      throw new Error(`after ${copier}'s copy, ${target.host}/${REPOSITORY}:${tag} holds ${found.digest ?? 'nothing'} ${found.digest === expected ? 'with blobs missing' : ''}, not the source's ${expected}`);
    }
  }
}

type Measured = Omit<CopyRun, 'digest'>;

/** Meridian's copies, as the release workflow makes them: one per target, all at once, in this process. */
async function copyWithMeridian(source: string, targets: string[], tag: string): Promise<Measured> {
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    await Promise.all(
      targets.map((registry) => copyImage({ source: { registry: source, repository: REPOSITORY, tag }, target: { registry, repository: REPOSITORY, tag } })),
    );
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { wallMs, peakRssBytes: peakRss, otherRssBytes: baseRss, cpuMs: (used.user + used.system) / 1000 };
}

/** skopeo's copies: one process per target, all at once. */
async function copyWithSkopeo(skopeo: string, source: string, targets: string[], tag: string): Promise<Measured> {
  const started = performance.now();
  const runs = await Promise.all(targets.map((target) => runSkopeoCopy(skopeo, `docker://${source}/${REPOSITORY}:${tag}`, `docker://${target}/${REPOSITORY}:${tag}`)));
  const wallMs = performance.now() - started;
  const cpuMs = runs.every((r) => r.cpuMs !== undefined) ? runs.reduce((sum, r) => sum + r.cpuMs!, 0) : undefined;
  return {
    wallMs,
    peakRssBytes: runs.reduce((sum, r) => sum + r.peakRssBytes, 0),
    otherRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    ...(cpuMs !== undefined && { cpuMs }),
  };
}

/**
 * One `skopeo copy --all`, its peak RSS and CPU time from GNU time when the machine has it, else its
 * peak RSS from /proc/PID/status (VmHWM, the kernel's own high-water mark) polled while it runs.
 */
async function runSkopeoCopy(skopeo: string, from: string, to: string): Promise<{ peakRssBytes: number; cpuMs?: number }> {
  const args = ['copy', '--all', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', from, to];
  const timed = existsSync(GNU_TIME);
  const dir = timed ? mkdtempSync(join(tmpdir(), 'meridian-bench-time-')) : undefined;
  const statsFile = dir && join(dir, 'stats');
  try {
    const child = timed ? spawn(GNU_TIME, ['-f', '%M %U %S', '-o', statsFile!, skopeo, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(skopeo, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let hwmKiB = 0;
    const poll = timed ? undefined : setInterval(() => (hwmKiB = Math.max(hwmKiB, vmHwmKiB(child.pid) ?? 0)), RSS_SAMPLE_MS);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).finally(() => clearInterval(poll));
    if (code !== 0) throw new Error(`skopeo copy ${from} ${to} exited with ${code}:\n${stderr.trim()}`);
    if (!timed) return { peakRssBytes: hwmKiB * 1024 };
    // GNU time puts a "Command exited with non-zero status" line first when there is one: read the last.
    const [kib, user, system] = readFileSync(statsFile!, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    return { peakRssBytes: kib * 1024, cpuMs: (user + system) * 1000 };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A process's peak resident memory so far, from /proc (undefined once it has gone, or off Linux). */
function vmHwmKiB(pid: number | undefined): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function figures(rounds: ReplicationRound[], pick: (turn: CopierTurn) => CopyRun, bytesPerTarget: number, registries: number): ScenarioFigures {
  const runs = (copier: Copier) => rounds.map((r) => pick(r[copier]));
  const meridian = runs('meridian');
  const skopeo = runs('skopeo');
  const meridianMs = median(meridian.map((r) => r.wallMs));
  const skopeoMs = median(skopeo.map((r) => r.wallMs));
  const rate = (ms: number) => (bytesPerTarget * registries) / 1e6 / (ms / 1000);
  const cpu = (xs: CopyRun[]) => (xs.every((r) => r.cpuMs !== undefined) ? median(xs.map((r) => r.cpuMs!)) : undefined);
  const meridianCpuMs = cpu(meridian);
  const skopeoCpuMs = cpu(skopeo);
  return {
    bytesPerTarget,
    meridianMs,
    skopeoMs,
    ratio: meridianMs / skopeoMs,
    meridianMBps: rate(meridianMs),
    skopeoMBps: rate(skopeoMs),
    meridianPeakRssBytes: Math.max(...meridian.map((r) => r.peakRssBytes)),
    skopeoPeakRssBytes: Math.max(...skopeo.map((r) => r.peakRssBytes)),
    meridianBaseRssBytes: Math.max(...meridian.map((r) => r.otherRssBytes)),
    skopeoLargestProcessRssBytes: Math.max(...skopeo.map((r) => r.otherRssBytes)),
    ...(meridianCpuMs !== undefined && { meridianCpuMs }),
    ...(skopeoCpuMs !== undefined && { skopeoCpuMs }),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
