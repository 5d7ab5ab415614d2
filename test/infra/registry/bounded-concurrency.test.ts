import { setTimeout as sleep } from 'node:timers/promises';
import { forEachConcurrently } from '../../../src/infra/registry/bounded-concurrency';

describe('forEachConcurrently', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachConcurrently([5, 1, 3, 2, 4, 1, 2], 3, async (ms, i) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(ms);
      running -= 1;
      done.push(i);
    });
    expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it('starts nothing new after a failure, waits for what runs, then throws the first failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachConcurrently([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      if (i === 0) throw new Error('item 0 failed');
      await sleep(20);
      finished.push(i);
    });
    await expect(run).rejects.toThrow('item 0 failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });

  it('refuses a limit below 1', async () => {
    await expect(forEachConcurrently([1], 0, async () => undefined)).rejects.toThrow(
      'concurrency must be a whole number of 1 or more, got 0',
    );
  });
});
