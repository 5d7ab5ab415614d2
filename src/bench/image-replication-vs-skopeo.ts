import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyImage, verifyImage } from '../infra/registry/copy-image';
import { readImageTree } from '../infra/registry/read-image-tree';
import { RegistryClient } from '../infra/registry/registry-client';
import { pushDemoImage } from '../rig/demo-image';
import { type ScratchRegistry, startScratchRegistry } from '../rig/scratch-registry';
import { requireTool } from '../rig/toolchain';
import { type Figure, figure } from './figures';

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
  /** Meridian: the process's resident memory when the copy started. */
  rssBeforeBytes?: number;
  /** skopeo: the largest of its processes' peaks. */
  largestProcessRssBytes?: number;
  /** User and system CPU time of the copier; undefined when it could not be measured. */
  cpuMs?: number;
  /** The manifest digest every target holds afterwards, checked to be the source's. */
  digest: string;
}

/** One copier's turn: the full image into empty targets, then the update into the same targets. */
export interface CopierTurn {
  /** Version A into empty registries. */
  full: CopyRun;
  /** Version B into registries that hold A. */
  shared: CopyRun;
}

/** Both copiers' turns in one round. */
export interface ReplicationRound {
  /** Which copier took its turn first. */
  first: Copier;
  /** Meridian's turn. */
  meridian: CopierTurn;
  /** skopeo's turn. */
  skopeo: CopierTurn;
}

/** One scenario's figures over the rounds, side by side. */
export interface ScenarioFigures {
  /** Bytes of blobs each target had to receive. */
  bytesPerTarget: number;
  /** Median wall time of Meridian's copies. */
  meridianMs: number;
  /** Median wall time of skopeo's copies. */
  skopeoMs: number;
  /** meridianMs / skopeoMs: the target is 1 or less for a full copy, 0.7 or less for an update sharing layers. */
  ratio: number;
  /** Bytes received by all targets over Meridian's median wall time, in MB (10^6 bytes) per second. */
  meridianMBps: number;
  /** The same over skopeo's median wall time. */
  skopeoMBps: number;
  /** Meridian's highest peakRssBytes over the rounds. */
  meridianPeakRssBytes: number;
  /** skopeo's highest peakRssBytes over the rounds (its processes' peaks summed). */
  skopeoPeakRssBytes: number;
  /** Highest RSS of Meridian's process when one of its copies started. */
  meridianRssBeforeBytes: number;
  /** Highest peak of a single skopeo process. */
  skopeoLargestProcessRssBytes: number;
  /** Median CPU time of Meridian's process during its copies. */
  meridianCpuMs?: number;
  /** Median CPU time of skopeo's processes, summed per copy; undefined without GNU time. */
  skopeoCpuMs?: number;
  /**
   * meridianCpuMs over the bytes all targets received, in ns per byte (the same number as CPU ms per
   * MB): the copy's own cost, apart from the registries'.
   */
  meridianCpuNsPerByte?: number;
  /** skopeoCpuMs over the same bytes. */
  skopeoCpuNsPerByte?: number;
}

/** The image copied. */
export interface BenchImage {
  /** Platforms as os/arch[/variant]. */
  platforms: string[];
  /** Layers per platform. */
  layers: number;
  /** How many of the first layers every platform shares. */
  sharedLayers: number;
  /** Distinct blobs: configs and layers. */
  blobs: number;
  /** Their total size in bytes. */
  bytes: number;
  /** Digest of the index. */
  digest: string;
}

/** What the whole comparison found. */
export interface ReplicationComparison {
  /** Version A, the full image. */
  image: BenchImage;
  /** Version B against A. */
  update: {
    /** Blobs B has that A has not: each platform's last layer and config. */
    newBlobs: number;
    /** Their total size in bytes. */
    newBytes: number;
    /** Digest of B's index. */
    digest: string;
  };
  /** Target registries each copy goes to. */
  registries: number;
  /** Every round, in order. */
  rounds: ReplicationRound[];
  /** The full image into empty registries. */
  full: ScenarioFigures;
  /** The update into registries holding the previous version. */
  shared: ScenarioFigures;
}

export interface ReplicationComparisonOptions {
  /** Distinct blob bytes of the image, roughly (tar and gzip framing add a little). Default 200 MB. */
  totalBytes?: number;
  /** Layers per platform. Default 6. */
  layers?: number;
  /** How many of the first layers every platform shares. Default 2; fewer than `layers`. */
  sharedLayers?: number;
  /** Platforms as os/arch[/variant]. Default linux/amd64 and linux/arm64. */
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
    throw new RangeError(
      `sharedLayers: expected 0 to ${layers - 1}, so that the last layer is each platform's own, got ${sharedLayers}`,
    );
  }
  const skopeo = requireTool('skopeo');
  const sizesA = layerSizes(options.totalBytes ?? 200e6, layers, sharedLayers, platforms.length);
  // A layer's content comes from its size among other things: one byte more in the last layer gives
  // every platform a new last layer and keeps the rest.
  const sizesB = sizesA.map((n, i) => (i === layers - 1 ? n + 1 : n));

  const source = await startScratchRegistry();
  try {
    const push = (tag: string, layerBytes: number[]) =>
      pushDemoImage({
        registry: source.host,
        repository: REPOSITORY,
        tag,
        platforms,
        layerBytes,
        sharedLayers,
        seed: 'meridian-bench-images',
      });
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
  const { image } = c;
  const scenario = (name: string, f: ScenarioFigures, target: string) =>
    `   ${name}: Meridian median ${s(f.meridianMs)} (${f.meridianMBps.toFixed(0)} MB/s), skopeo median ${s(f.skopeoMs)} (${f.skopeoMBps.toFixed(0)} MB/s); ` +
    `ratio ${f.ratio.toFixed(2)}x skopeo (target: ${target}); ` +
    `peak RSS Meridian ${mib(f.meridianPeakRssBytes)} (the whole bench process, which held up to ${mib(f.meridianRssBeforeBytes)} before a copy), ` +
    `skopeo ${c.registries} processes ${mib(f.skopeoPeakRssBytes)} summed (largest ${mib(f.skopeoLargestProcessRssBytes)}); ` +
    `CPU (user and system) median Meridian ${f.meridianCpuMs === undefined ? 'unknown' : s(f.meridianCpuMs)}, skopeo ${f.skopeoCpuMs === undefined ? 'unknown (no GNU time)' : `${s(f.skopeoCpuMs)} summed`}` +
    (f.meridianCpuNsPerByte !== undefined && f.skopeoCpuNsPerByte !== undefined
      ? `; CPU per byte received Meridian ${f.meridianCpuNsPerByte.toFixed(2)} ns, skopeo ${f.skopeoCpuNsPerByte.toFixed(2)} ns (${(f.meridianCpuNsPerByte / f.skopeoCpuNsPerByte).toFixed(2)}x)`
      : '');
  const each = c.rounds
    .map(
      (r) =>
        `${r.first} first: ${s(r.meridian.full.wallMs)} vs ${s(r.skopeo.full.wallMs)} / ${s(r.meridian.shared.wallMs)} vs ${s(r.skopeo.shared.wallMs)}`,
    )
    .join('; ');
  return [
    `image replication vs skopeo copy --all: ${image.platforms.length} platforms x ${image.layers} layers (first ${image.sharedLayers} shared), ` +
      `${image.blobs} blobs, ${mb(image.bytes)}, from one docker-registry to ${c.registries} at once on loopback (Meridian: ${c.registries} copyImage calls in its process; ` +
      `skopeo: ${c.registries} processes, their start included), fresh targets per turn, ${c.rounds.length} rounds alternating who goes first; every target's digest checked against the source's:`,
    scenario(`full image into empty registries (${mb(c.full.bytesPerTarget)} per target)`, c.full, '1.0x or less'),
    scenario(
      `update into registries holding the previous version (${c.update.newBlobs} new blobs, ${mb(c.shared.bytesPerTarget)} per target)`,
      c.shared,
      '0.7x or less',
    ),
    `   rounds, Meridian vs skopeo, full / update: ${each}`,
  ].join('\n');
}

/**
 * The section's figures: each scenario's wall time against skopeo's and, when both were measured, its
 * CPU per byte received against skopeo's.
 */
export function replicationFigures(c: ReplicationComparison): Figure[] {
  const name = `image copy, ${(c.image.bytes / 1e6).toFixed(1)} MB to ${c.registries} registries`;
  const skopeo = 'skopeo copy --all';
  const scenario = (what: string, f: ScenarioFigures): Figure[] => [
    figure(`${name}, ${what}`, 's', f.meridianMs / 1000, { name: skopeo, value: f.skopeoMs / 1000 }),
    ...(f.meridianCpuNsPerByte !== undefined && f.skopeoCpuNsPerByte !== undefined
      ? [
          figure(`${name}, ${what}: CPU per byte received`, 'ns/byte', f.meridianCpuNsPerByte, {
            name: skopeo,
            value: f.skopeoCpuNsPerByte,
          }),
        ]
      : []),
  ];
  return [...scenario('full', c.full), ...scenario('update sharing layers', c.shared)];
}

/**
 * Content sizes of one platform's layers, base first, largest first (as real images are): layer i
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
async function takeTurn(
  copier: Copier,
  skopeo: string,
  source: string,
  registries: number,
  digests: { a: string; b: string },
): Promise<CopierTurn> {
  const started = await Promise.allSettled(Array.from({ length: registries }, () => startScratchRegistry()));
  const targets = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const copy =
      copier === 'meridian'
        ? copyWithMeridian
        : (src: string, dst: string[], tag: string) => copyWithSkopeo(skopeo, src, dst, tag);
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
    const found = await verifyImage({
      ref: { registry: target.host, repository: REPOSITORY, tag },
      expectedDigest: expected,
    });
    if (!found.present) {
      const held =
        found.digest === undefined
          ? 'nothing'
          : found.digest === expected
            ? `${expected} with blobs missing`
            : found.digest;
      throw new Error(
        `after ${copier}'s copy, ${target.host}/${REPOSITORY}:${tag} holds ${held}, not the source's ${expected} in full`,
      );
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
      targets.map((registry) =>
        copyImage({
          source: { registry: source, repository: REPOSITORY, tag },
          target: { registry, repository: REPOSITORY, tag },
        }),
      ),
    );
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { wallMs, peakRssBytes: peakRss, rssBeforeBytes: baseRss, cpuMs: (used.user + used.system) / 1000 };
}

/** skopeo's copies: one process per target, all at once. */
async function copyWithSkopeo(skopeo: string, source: string, targets: string[], tag: string): Promise<Measured> {
  const started = performance.now();
  const runs = await Promise.all(
    targets.map((target) =>
      runSkopeoCopy(skopeo, `docker://${source}/${REPOSITORY}:${tag}`, `docker://${target}/${REPOSITORY}:${tag}`),
    ),
  );
  const wallMs = performance.now() - started;
  const cpuMs = runs.every((r) => r.cpuMs !== undefined) ? runs.reduce((sum, r) => sum + r.cpuMs!, 0) : undefined;
  return {
    wallMs,
    peakRssBytes: runs.reduce((sum, r) => sum + r.peakRssBytes, 0),
    largestProcessRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    ...(cpuMs !== undefined && { cpuMs }),
  };
}

/**
 * One `skopeo copy --all`, its peak RSS and CPU time from GNU time when the machine has it, else its
 * peak RSS from /proc/PID/status (VmHWM, the kernel's own high-water mark) polled while it runs.
 */
async function runSkopeoCopy(
  skopeo: string,
  from: string,
  to: string,
): Promise<{ peakRssBytes: number; cpuMs?: number }> {
  const args = ['copy', '--all', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', from, to];
  const timed = existsSync(GNU_TIME);
  const dir = timed ? mkdtempSync(join(tmpdir(), 'meridian-bench-time-')) : undefined;
  const statsFile = dir && join(dir, 'stats');
  try {
    const child = timed
      ? spawn(GNU_TIME, ['-f', '%M %U %S', '-o', statsFile!, skopeo, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(skopeo, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let hwmKiB = 0;
    const poll = timed
      ? undefined
      : setInterval(() => (hwmKiB = Math.max(hwmKiB, vmHwmKiB(child.pid) ?? 0)), RSS_SAMPLE_MS);
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

function figures(
  rounds: ReplicationRound[],
  pick: (turn: CopierTurn) => CopyRun,
  bytesPerTarget: number,
  registries: number,
): ScenarioFigures {
  const runs = (copier: Copier) => rounds.map((r) => pick(r[copier]));
  const meridian = runs('meridian');
  const skopeo = runs('skopeo');
  const meridianMs = median(meridian.map((r) => r.wallMs));
  const skopeoMs = median(skopeo.map((r) => r.wallMs));
  const rate = (ms: number) => (bytesPerTarget * registries) / 1e6 / (ms / 1000);
  const cpu = (xs: CopyRun[]) => (xs.every((r) => r.cpuMs !== undefined) ? median(xs.map((r) => r.cpuMs!)) : undefined);
  const meridianCpuMs = cpu(meridian);
  const skopeoCpuMs = cpu(skopeo);
  const perByte = (ms: number | undefined) =>
    ms === undefined ? undefined : (ms * 1e6) / (bytesPerTarget * registries);
  const meridianCpuNsPerByte = perByte(meridianCpuMs);
  const skopeoCpuNsPerByte = perByte(skopeoCpuMs);
  return {
    bytesPerTarget,
    meridianMs,
    skopeoMs,
    ratio: meridianMs / skopeoMs,
    meridianMBps: rate(meridianMs),
    skopeoMBps: rate(skopeoMs),
    meridianPeakRssBytes: Math.max(...meridian.map((r) => r.peakRssBytes)),
    skopeoPeakRssBytes: Math.max(...skopeo.map((r) => r.peakRssBytes)),
    meridianRssBeforeBytes: Math.max(...meridian.map((r) => r.rssBeforeBytes ?? 0)),
    skopeoLargestProcessRssBytes: Math.max(...skopeo.map((r) => r.largestProcessRssBytes ?? 0)),
    ...(meridianCpuMs !== undefined && { meridianCpuMs }),
    ...(skopeoCpuMs !== undefined && { skopeoCpuMs }),
    ...(meridianCpuNsPerByte !== undefined && { meridianCpuNsPerByte }),
    ...(skopeoCpuNsPerByte !== undefined && { skopeoCpuNsPerByte }),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
