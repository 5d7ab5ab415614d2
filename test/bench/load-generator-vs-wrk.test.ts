import { spawnSync } from 'node:child_process';
import {
  compareWithWrk,
  describeGeneratorComparison,
  generatorFigures,
  type GeneratorComparison,
} from '../../src/bench/load-generator-vs-wrk';

const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

describe('compareWithWrk', () => {
  (hasWrk ? it : it.skip)('runs both generators against one loopback target and compares their rates', async () => {
    const c = await compareWithWrk({ connections: 4, durationMs: 1000, rounds: 1, openRate: 500 });
    expect(c).toMatchObject({ connections: 4, durationMs: 1000 });
    expect(c.rounds).toHaveLength(1);
    expect(c.rounds[0].ours.requests).toBeGreaterThan(100);
    expect(c.rounds[0].wrk.requests).toBeGreaterThan(100);
    expect(c.rounds[0].ours.errors + c.rounds[0].wrk.errors).toBe(0);
    expect(c.ratio).toBeCloseTo(c.oursRps / c.wrkRps, 5);
    for (const run of [c.rounds[0].ours, c.rounds[0].wrk]) {
      expect(run.cpuUsPerRequest).toBeGreaterThan(0);
      expect(run.targetCpuUsPerRequest).toBeGreaterThan(0);
    }
    expect(c.oursCpuUsPerRequest).toBe(c.rounds[0].ours.cpuUsPerRequest);
    expect(c.wrkCpuUsPerRequest).toBe(c.rounds[0].wrk.cpuUsPerRequest);
    // The open-model run: 500 requests/s for 1 s is 500 requests, each counted, latency from the intended start.
    const o = c.openModel!;
    expect(o).toMatchObject({ requestedRps: 500, requests: 500, errors: 0 });
    expect(o.achievedRps).toBeGreaterThan(0);
    expect(o.late).toBeGreaterThanOrEqual(0);
    expect(o.late).toBeLessThanOrEqual(500);
    expect(o.latencyMs.max).toBeGreaterThanOrEqual(o.serviceLatencyMs.p50);
    expect(o.cpuUsPerRequest).toBeGreaterThan(0);
    expect(generatorFigures(c).map((f) => [f.name, f.unit, f.baseline?.name])).toEqual([
      ['load generator, 4 connections', 'requests/s', 'wrk -t1'],
      ['load generator, 4 connections: CPU per request', 'us', 'wrk -t1'],
      ['load generator, open model at 500 requests/s: answered rate', 'requests/s', 'asked'],
      [
        'load generator, open model at 500 requests/s: p50 from the intended start',
        'ms',
        'from the write (uncorrected)',
      ],
      [
        'load generator, open model at 500 requests/s: p99 from the intended start',
        'ms',
        'from the write (uncorrected)',
      ],
      ['load generator, open model at 500 requests/s: late requests', 'requests', undefined],
    ]);
  });

  it('says it in a line, and the open-model run in another', () => {
    const run = (rps: number, cpu: number) => ({
      rps,
      requests: rps * 10,
      errors: 0,
      cpuUsPerRequest: cpu,
      targetCpuUsPerRequest: 21,
    });
    const c: GeneratorComparison = {
      connections: 10,
      durationMs: 10_000,
      rounds: [
        { ours: run(20_100, 23.4), wrk: run(25_000, 15) },
        { ours: run(21_000, 22), wrk: run(26_000, 14.2) },
        { ours: run(19_000, 25), wrk: run(24_000, 16) },
      ],
      oursRps: 20_100,
      wrkRps: 25_000,
      ratio: 0.804,
      oursCpuUsPerRequest: 23.4,
      wrkCpuUsPerRequest: 15,
      openModel: {
        requestedRps: 10_000,
        achievedRps: 9_998.2,
        requests: 100_000,
        errors: 0,
        late: 12,
        latencyMs: { p50: 0.41, p90: 0.9, p99: 3.2, max: 41 },
        serviceLatencyMs: { p50: 0.38, p90: 0.8, p99: 2.1, max: 12.5 },
        cpuUsPerRequest: 16.04,
        targetCpuUsPerRequest: 25.5,
      },
    };
    expect(describeGeneratorComparison(c)).toBe(
      'load generator vs wrk, unthrottled, 10 connections, 3 rounds of 10 s each, loopback node:http target in its own process: ' +
        'Meridian median 20100 requests/s, wrk -t1 median 25000 requests/s (rounds: 20100 vs 25000, 21000 vs 26000, 19000 vs 24000); ratio 0.80x wrk (target: 0.8x or more). ' +
        'CPU per request, median: Meridian 23.4 us, wrk 15.0 us (1.56x), the target 21.0 us under Meridian and 21.0 us under wrk\n' +
        'open model, 10000 requests/s asked, evenly spaced, 10 connections, 10 s: 9998 requests/s answered (1.00x), 100000 requests, 12 late (every connection busy at their start); ' +
        'latency from the intended start p50 0.41 ms, p90 0.90 ms, p99 3.20 ms, max 41 ms; from the write p50 0.38 ms, p90 0.80 ms, p99 2.10 ms, max 13 ms; ' +
        'CPU per request 16.0 us, the target 25.5 us',
    );
  });
});
