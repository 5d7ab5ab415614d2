import { PacingSchedule } from '../../../src/infra/load/pacing-schedule';

describe('PacingSchedule', () => {
  it('spaces the intended starts evenly at the rate', () => {
    const s = new PacingSchedule(200, 400);
    expect(s.intervalMs).toBe(5);
    expect([0, 1, 2, 199, 200, 399].map((i) => s.startMs(i))).toEqual([0, 5, 10, 995, 1000, 1995]);
  });

  it('holds rate x duration requests, at least one', () => {
    expect(PacingSchedule.forDuration(200, 2000).total).toBe(400);
    expect(PacingSchedule.forDuration(3, 1500).total).toBe(5); // 4.5 rounds to 5
    expect(PacingSchedule.forDuration(1, 100).total).toBe(1);
  });

  it('counts as due the requests whose intended start has come, and never more than the test holds', () => {
    const s = new PacingSchedule(200, 400);
    expect(s.dueBy(-1)).toBe(0);
    expect(s.dueBy(0)).toBe(1); // the first starts at once
    expect(s.dueBy(4.99)).toBe(1);
    expect(s.dueBy(5)).toBe(2);
    expect(s.dueBy(999)).toBe(200);
    expect(s.dueBy(60_000)).toBe(400);
  });

  it('agrees with startMs exactly where division and multiplication round differently', () => {
    // 1000/3 is not exact in binary: the count must still match the intended starts one by one.
    for (const rate of [3, 7, 30, 333, 9999]) {
      const s = new PacingSchedule(rate, 100_000);
      for (let i = 1; i < 2000; i++) {
        expect(s.dueBy(s.startMs(i))).toBe(i + 1);
        expect(s.dueBy(s.startMs(i) - 1e-9)).toBe(i);
      }
    }
  });

  it('measures latency from the intended start, so a request held back carries its wait', () => {
    const s = new PacingSchedule(100, 100); // every 10 ms
    // Request 5 was meant to start at 50 ms; a busy connection let it out at 80 ms and it was answered at 82 ms.
    expect(s.latencyMs(5, 82)).toBe(32);
    // On time: 2 ms.
    expect(s.latencyMs(5, 52)).toBe(2);
    expect(s.latencyMs(5, 49)).toBe(0);
  });
});
