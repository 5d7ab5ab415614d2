import {
  compareWithSkopeo,
  describeReplicationComparison,
  type ReplicationComparison,
  replicationFigures,
} from '../../src/bench/image-replication-vs-skopeo';
import { findTool } from '../../src/rig/toolchain';

const hasTools = findTool('skopeo') !== undefined && findTool('docker-registry') !== undefined;

describe('compareWithSkopeo', () => {
  (hasTools ? it : it.skip)('copies a small image both ways, checks every target and compares the times', async () => {
    const c = await compareWithSkopeo({
      totalBytes: 300 * 1024,
      layers: 3,
      sharedLayers: 1,
      platforms: ['linux/amd64', 'linux/arm64'],
      registries: 3,
      rounds: 1,
    });

    // 1 shared layer, 2 of each platform's own, 2 configs; B changes each platform's last layer and config.
    expect(c.image).toMatchObject({ platforms: ['linux/amd64', 'linux/arm64'], layers: 3, sharedLayers: 1, blobs: 7 });
    expect(c.image.bytes).toBeGreaterThan(300 * 1024);
    expect(c.update.newBlobs).toBe(4);
    expect(c.update.newBytes).toBeGreaterThan(0);
    expect(c.update.newBytes).toBeLessThan(c.image.bytes);
    expect(c.update.digest).not.toBe(c.image.digest);
    expect(c.registries).toBe(3);
    expect(c.rounds).toHaveLength(1);
    expect(c.rounds[0].first).toBe('meridian');

    for (const turn of [c.rounds[0].meridian, c.rounds[0].skopeo]) {
      expect(turn.full.digest).toBe(c.image.digest);
      expect(turn.shared.digest).toBe(c.update.digest);
      for (const run of [turn.full, turn.shared]) {
        expect(run.wallMs).toBeGreaterThan(0);
        expect(run.peakRssBytes).toBeGreaterThan(0);
      }
    }
    const { meridian, skopeo } = c.rounds[0];
    expect(meridian.full.rssBeforeBytes).toBeGreaterThan(0);
    expect(meridian.full.peakRssBytes).toBeGreaterThanOrEqual(meridian.full.rssBeforeBytes!);
    expect(skopeo.full.largestProcessRssBytes).toBeGreaterThan(0);
    expect(skopeo.full.peakRssBytes).toBeGreaterThanOrEqual(skopeo.full.largestProcessRssBytes!);

    for (const [scenario, bytes] of [
      [c.full, c.image.bytes],
      [c.shared, c.update.newBytes],
    ] as const) {
      expect(scenario.bytesPerTarget).toBe(bytes);
      expect(scenario.meridianMs).toBeGreaterThan(0);
      expect(scenario.skopeoMs).toBeGreaterThan(0);
      expect(scenario.ratio).toBeCloseTo(scenario.meridianMs / scenario.skopeoMs, 5);
      expect(scenario.meridianMBps).toBeCloseTo((bytes * 3) / 1e6 / (scenario.meridianMs / 1000), 5);
    }
    expect(c.full.meridianMs).toBe(meridian.full.wallMs);
    // CPU per byte: the copier's CPU over the bytes all three targets received.
    expect(c.full.meridianCpuNsPerByte).toBeCloseTo((c.full.meridianCpuMs! * 1e6) / (c.image.bytes * 3), 5);
    if (c.full.skopeoCpuMs !== undefined) {
      expect(c.full.skopeoCpuNsPerByte).toBeCloseTo((c.full.skopeoCpuMs * 1e6) / (c.image.bytes * 3), 5);
      expect(replicationFigures(c).map((f) => [f.name, f.unit, f.baseline?.name])).toEqual([
        ['image copy, 0.3 MB to 3 registries, full', 's', 'skopeo copy --all'],
        ['image copy, 0.3 MB to 3 registries, full: CPU per byte received', 'ns/byte', 'skopeo copy --all'],
        ['image copy, 0.3 MB to 3 registries, update sharing layers', 's', 'skopeo copy --all'],
        [
          'image copy, 0.3 MB to 3 registries, update sharing layers: CPU per byte received',
          'ns/byte',
          'skopeo copy --all',
        ],
      ]);
    }
    expect(c.shared.skopeoMs).toBe(skopeo.shared.wallMs);

    const text = describeReplicationComparison(c);
    expect(text).toContain('Meridian median');
    expect(text).toContain('skopeo median');
    expect(text).toMatch(/full image into empty registries .*ratio \d+\.\d\dx skopeo/);
    expect(text).toMatch(/update into registries holding the previous version .*ratio \d+\.\d\dx skopeo/);
  });
});

describe('describeReplicationComparison', () => {
  it('says it in a heading, a line per scenario and the rounds', () => {
    const run = (wallMs: number, peakMiB: number, cpuMs: number, extra: object) => ({
      wallMs,
      peakRssBytes: peakMiB * 2 ** 20,
      cpuMs,
      digest: 'sha256:x',
      ...extra,
    });
    const ours = (wallMs: number, cpuMs: number) => run(wallMs, 150, cpuMs, { rssBeforeBytes: 140 * 2 ** 20 });
    const theirs = (wallMs: number, cpuMs: number) => run(wallMs, 66, cpuMs, { largestProcessRssBytes: 22 * 2 ** 20 });
    const scenario = (bytesPerTarget: number, meridianMs: number, skopeoMs: number) => ({
      bytesPerTarget,
      meridianMs,
      skopeoMs,
      ratio: meridianMs / skopeoMs,
      meridianMBps: (bytesPerTarget * 3) / 1e6 / (meridianMs / 1000),
      skopeoMBps: (bytesPerTarget * 3) / 1e6 / (skopeoMs / 1000),
      meridianPeakRssBytes: 150 * 2 ** 20,
      skopeoPeakRssBytes: 66 * 2 ** 20,
      meridianRssBeforeBytes: 140 * 2 ** 20,
      skopeoLargestProcessRssBytes: 22 * 2 ** 20,
      meridianCpuMs: 1800,
      skopeoCpuMs: 2200,
      meridianCpuNsPerByte: 1800e6 / (bytesPerTarget * 3),
      skopeoCpuNsPerByte: 2200e6 / (bytesPerTarget * 3),
    });
    const c: ReplicationComparison = {
      image: {
        platforms: ['linux/amd64', 'linux/arm64'],
        layers: 6,
        sharedLayers: 2,
        blobs: 12,
        bytes: 200e6,
        digest: 'sha256:a',
      },
      update: { newBlobs: 4, newBytes: 12.9e6, digest: 'sha256:b' },
      registries: 3,
      rounds: [
        {
          first: 'meridian',
          meridian: { full: ours(3600, 1800), shared: ours(450, 200) },
          skopeo: { full: theirs(4000, 2200), shared: theirs(700, 300) },
        },
        {
          first: 'skopeo',
          meridian: { full: ours(3800, 1800), shared: ours(550, 200) },
          skopeo: { full: theirs(3800, 2200), shared: theirs(700, 300) },
        },
      ],
      full: scenario(200e6, 3700, 3900),
      shared: scenario(12.9e6, 500, 700),
    };
    expect(describeReplicationComparison(c).split('\n')).toEqual([
      'image replication vs skopeo copy --all: 2 platforms x 6 layers (first 2 shared), 12 blobs, 200.0 MB, from one docker-registry to 3 at once on loopback ' +
        "(Meridian: 3 copyImage calls in its process; skopeo: 3 processes, their start included), fresh targets per turn, 2 rounds alternating who goes first; every target's digest checked against the source's:",
      '   full image into empty registries (200.0 MB per target): Meridian median 3.70 s (162 MB/s), skopeo median 3.90 s (154 MB/s); ratio 0.95x skopeo (target: 1.0x or less); ' +
        'peak RSS Meridian 150 MiB (the whole bench process, which held up to 140 MiB before a copy), skopeo 3 processes 66 MiB summed (largest 22 MiB); CPU (user and system) median Meridian 1.80 s, skopeo 2.20 s summed; CPU per byte received Meridian 3.00 ns, skopeo 3.67 ns (0.82x)',
      '   update into registries holding the previous version (4 new blobs, 12.9 MB per target): Meridian median 0.50 s (77 MB/s), skopeo median 0.70 s (55 MB/s); ratio 0.71x skopeo (target: 0.7x or less); ' +
        'peak RSS Meridian 150 MiB (the whole bench process, which held up to 140 MiB before a copy), skopeo 3 processes 66 MiB summed (largest 22 MiB); CPU (user and system) median Meridian 1.80 s, skopeo 2.20 s summed; CPU per byte received Meridian 46.51 ns, skopeo 56.85 ns (0.82x)',
      '   rounds, Meridian vs skopeo, full / update: meridian first: 3.60 s vs 4.00 s / 0.45 s vs 0.70 s; skopeo first: 3.80 s vs 3.80 s / 0.55 s vs 0.70 s',
    ]);
  });
});
