/**
 * Runs `work` on every item with at most `limit` running at once. After a failure no new item starts;
 * the ones already running are waited for (a blob half uploaded is better finished than left), then
 * the first failure is thrown.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be a whole number of 1 or more, got ${limit}`);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * Runs `work` on every item that `admit` lets through (resolves true), at most `limit` at once, in the
 * items' order: all admissions are asked at once, and an item whose admission is still out keeps a
 * slot for itself, so no later item starts before it. Except when `keepPlaces()` says no (it is asked
 * each time a slot is free): then items still being admitted keep nothing, and an item admitted sooner
 * starts before them (they keep their precedence over items that wait for a slot). Failures, of an
 * admission or of the work, as in forEachConcurrently: nothing new starts, what runs is waited for,
 * the first failure is thrown.
 */
export async function forEachAdmitted<T>(
  items: readonly T[],
  limit: number,
  admit: (item: T, index: number) => Promise<boolean>,
  work: (item: T, index: number) => Promise<void>,
  keepPlaces: () => boolean = () => true,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be a whole number of 1 or more, got ${limit}`);
  return new Promise<void>((resolve, reject) => {
    let failure: { error: unknown } | undefined;
    let outstanding = items.length; // items not yet turned away or finished
    let running = 0;
    /** Per item: being admitted, waiting for a slot, or neither (started, turned away). */
    const state: ('admitting' | 'waiting' | undefined)[] = items.map(() => 'admitting');
    const settle = () => {
      if (failure && running === 0) reject(failure.error);
      else if (!failure && outstanding === 0) resolve();
    };
    const fail = (error: unknown) => (failure ??= { error });
    const start = (index: number) => {
      state[index] = undefined;
      running += 1;
      Promise.resolve()
        .then(() => work(items[index], index))
        .catch(fail)
        .finally(() => {
          running -= 1;
          outstanding -= 1;
          startWaiting();
          settle();
        });
    };
    const startWaiting = () => {
      const keep = keepPlaces();
      let taken = running;
      for (let i = 0; i < items.length && taken < limit && !failure; i++) {
        if (state[i] === 'waiting') {
          start(i);
          taken += 1;
        } else if (state[i] === 'admitting' && keep) taken += 1;
      }
    };
    items.forEach((item, index) => {
      Promise.resolve()
        .then(() => admit(item, index))
        .then(
          (admitted) => {
            state[index] = admitted ? 'waiting' : undefined;
            if (!admitted) outstanding -= 1;
            startWaiting();
          },
          (error: unknown) => {
            state[index] = undefined;
            fail(error);
            outstanding -= 1;
          },
        )
        .finally(settle);
    });
    settle();
  });
}
