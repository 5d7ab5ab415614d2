import { formatStatus } from '../../src/client/status-view';
import type { ReleaseStatus } from '../../src/domain/release-status';

const status: ReleaseStatus = {
  releaseId: 'release-shop-api-2.4.5',
  app: 'shop-api',
  version: '2.4.5',
  phase: 'Halted',
  wave: 1,
  waves: [{ regions: ['staging'], bakeMs: 0 }],
  regions: [
    {
      name: 'staging',
      wave: 1,
      phase: 'RolledBack',
      attempts: 1,
      error: 'load test failed: p99 70ms vs 5ms in 2.4.0 (+1300%), limit +20%',
      load: {
        environment: 'staging',
        endpoint: 'http://127.0.0.1:18109',
        figures: {
          requests: 400,
          throughputRps: 99.5,
          targetRps: 100,
          errorRate: 0,
          latencyMs: { p50: 62, p90: 66, p99: 70, max: 81 },
          statuses: { '2xx': 400 },
          transportErrors: 0,
          durationMs: 4000,
        },
        resources: { cpuCores: { mean: 0.12, max: 0.2 }, memoryBytes: { max: 96 * 2 ** 20 }, notes: [] },
        baseline: { releaseId: 'release-shop-api-2.4.0', version: '2.4.0', figures: {} as never },
        gates: [
          { gate: 'p99', passed: true, detail: 'p99 70ms, limit 400ms' },
          { gate: 'regression p99', passed: false, detail: 'p99 70ms vs 5ms in 2.4.0 (+1300%), limit +20%' },
        ],
        passed: false,
        notes: [],
      },
      analysis: {
        measurements: 4,
        passed: 3,
        failed: 1,
        inconclusive: 0,
        verdict: 'failed',
        reason: '1 failed measurement (limit 0): health: GET /healthz answered 500',
      },
    },
  ],
  paused: false,
  actions: [],
};

describe('formatStatus', () => {
  it('shows a region with its load report gate by gate and its health analysis', () => {
    const text = formatStatus(status);
    expect(text).toContain(
      'load test FAILED: 400 requests, 100/s of 100/s, errors 0.00%, p50 62ms p90 66ms p99 70ms max 81ms, cpu 0.12 cores (peak 0.20), memory peak 96 MiB',
    );
    expect(text).toContain('ok   p99: p99 70ms, limit 400ms');
    expect(text).toContain('FAIL regression p99: p99 70ms vs 5ms in 2.4.0 (+1300%), limit +20%');
    expect(text).toContain(
      'health analysis failed: 4 measurements: 3 passed, 1 failed, 0 inconclusive (1 failed measurement (limit 0): health: GET /healthz answered 500)',
    );
  });
});

describe('formatStatus: an amended release', () => {
  it('lists regions by their wave as amended, with the amendment on the region and every operator action at the end', () => {
    const amended: ReleaseStatus = {
      ...status,
      phase: 'Running',
      wave: 2,
      waves: [
        { regions: ['canary'], bakeMs: 0 },
        { regions: ['paris'], bakeMs: 0 },
        { regions: ['seoul'], bakeMs: 0 },
      ],
      regions: [
        { name: 'canary', wave: 1, phase: 'Succeeded', attempts: 1 },
        { name: 'seoul', wave: 3, phase: 'Pending', attempts: 0, note: 'move seoul to wave 3 by alice: holiday' },
        { name: 'paris', wave: 2, phase: 'Skipped', attempts: 0, note: 'skip paris by bob: strike' },
      ],
      actions: [{ action: 'move seoul to wave 3', by: 'alice', reason: 'holiday', at: '2026-11-26T10:00:00.000Z' }],
    };
    const lines = formatStatus(amended).split('\n');
    expect(lines.slice(1, 4).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '1 canary Succeeded',
      '2 paris Skipped',
      '3 seoul Pending',
    ]);
    expect(lines[2]).toContain('skip paris by bob: strike');
    expect(lines).toContain('    2026-11-26T10:00:00.000Z  alice  move seoul to wave 3: holiday');
  });
});

describe('formatStatus: images', () => {
  it("shows each registry's replication with the digest or why it failed", () => {
    const text = formatStatus({
      ...status,
      registries: [
        {
          registry: '127.0.0.1:5101',
          phase: 'Ready',
          digest: `sha256:${'ab'.repeat(32)}`,
          detail: 'copied 3 of 5 blobs (2.0 MiB), 2 already there, 2 platforms',
        },
        { registry: '127.0.0.1:5102', phase: 'Failed', detail: 'registry 127.0.0.1:5102 did not answer' },
      ],
    });
    expect(text).toContain(
      '  image in 127.0.0.1:5101: Ready sha256:abababababab (copied 3 of 5 blobs (2.0 MiB), 2 already there, 2 platforms)',
    );
    expect(text).toContain('  image in 127.0.0.1:5102: Failed (registry 127.0.0.1:5102 did not answer)');
  });
});
