import { spawnSync } from 'node:child_process';
import {
  compareWithWrk,
  describeGeneratorComparison,
  type GeneratorComparison,
} from '../../src/bench/load-generator-vs-wrk';

const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

describe('compareWithWrk', () => {
  (hasWrk ? it : it.skip)('runs both generators against one loopback target and compares their rates', async () => {
    const c = await compareWithWrk({ connections: 4, durationMs: 1000, rounds: 1 });
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
  });

  it('says it in one line', () => {
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
    };
    expect(describeGeneratorComparison(c)).toBe(
      'load generator vs wrk, unthrottled, 10 connections, 3 rounds of 10 s each, loopback node:http target in its own process: ' +
        'Meridian (autocannon) median 20100 requests/s, wrk -t1 median 25000 requests/s (rounds: 20100 vs 25000, 21000 vs 26000, 19000 vs 24000); ratio 0.80x wrk (target: 0.8x or more). ' +
        'CPU per request, median: Meridian 23.4 us, wrk 15.0 us, the target 21.0 us under Meridian and 21.0 us under wrk',
    );
  });
});
