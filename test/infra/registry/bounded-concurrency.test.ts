import { setTimeout as sleep } from 'node:timers/promises';
import { forEachAdmitted, forEachConcurrently } from '../../../src/infra/registry/bounded-concurrency';

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

describe('forEachAdmitted', () => {
  /** An admission the test settles by hand. */
  const gate = () => {
    let open!: (admitted: boolean) => void;
    let fail!: (error: Error) => void;
    const promise = new Promise<boolean>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    return { promise, open, fail };
  };
  const tick = () => sleep(5);

  it('runs only the items let through, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachAdmitted(
      [1, 2, 3, 4, 5, 6],
      2,
      async (n) => n % 2 === 0,
      async (n) => {
        running += 1;
        most = Math.max(most, running);
        await sleep(10);
        running -= 1;
        done.push(n);
      },
    );
    expect(done.sort()).toEqual([2, 4, 6]);
    expect(most).toBe(2);
  });

  it('keeps a slot for an item still being admitted, so items start in order', async () => {
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const run = forEachAdmitted(
      [0, 1, 2],
      2,
      (_, i) => gates[i].promise,
      async (i) => {
        started.push(i);
        await sleep(20);
      },
    );
    gates[1].open(true);
    gates[2].open(true);
    await tick();
    // Item 0's admission is out: it keeps one of the two slots, so only item 1 starts.
    expect(started).toEqual([1]);
    gates[0].open(true);
    await run;
    expect(started).toEqual([1, 0, 2]);
  });

  it('lets an item admitted sooner start before earlier ones still being admitted when places are not kept', async () => {
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    let keep = true;
    const run = forEachAdmitted(
      [0, 1, 2, 3],
      2,
      (_, i) => gates[i].promise,
      async (i) => {
        started.push(i);
        await sleep(20);
      },
      () => keep,
    );
    keep = false; // as a copy does once its target turns out to hold part of the image
    gates[3].open(true);
    gates[2].open(true);
    await tick();
    expect(started).toEqual([2, 3]);
    // Both slots are taken: item 1, admitted now, waits for one and then goes before anything later.
    gates[1].open(true);
    gates[0].open(false);
    await run;
    expect(started).toEqual([2, 3, 1]);
  });

  it('starts nothing new after an admission fails, waits for what runs, then throws that failure', async () => {
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachAdmitted(
      [0, 1, 2],
      1,
      (_, i) => gates[i].promise,
      async (i) => {
        started.push(i);
        await sleep(20);
        finished.push(i);
      },
    );
    gates[0].open(true);
    await tick();
    gates[1].fail(new Error('lookup of item 1 failed'));
    gates[2].open(true);
    await expect(run).rejects.toThrow('lookup of item 1 failed');
    expect(started).toEqual([0]);
    expect(finished).toEqual([0]);
  });

  it('refuses a limit below 1', async () => {
    await expect(
      forEachAdmitted(
        [1],
        0,
        async () => true,
        async () => undefined,
      ),
    ).rejects.toThrow('concurrency must be a whole number of 1 or more, got 0');
  });
});
