import { backoffDelay, ListWatch } from '../../src/rig/list-watch';
import { FakeCollection, until } from '../support/fake-list-watch-edge';

interface Thing {
  metadata?: { name?: string; resourceVersion?: string };
  colour?: string;
}

const thing = (name: string, colour = 'red'): Thing => ({ metadata: { name }, colour });

function following(server: FakeCollection<Thing>) {
  const clock = { now: 0 };
  let changes = 0;
  const lw = new ListWatch(server, {
    onChange: () => changes++,
    backoff: { initialMs: 1, maxMs: 4 },
    now: () => clock.now,
  });
  const seen = () =>
    Object.fromEntries(
      lw
        .items()
        .map((t) => [t.metadata?.name, t.colour])
        .sort(),
    ) as Record<string, string>;
  return { lw, clock, seen, changes: () => changes };
}

describe('ListWatch', () => {
  let lw: ListWatch<Thing> | undefined;
  afterEach(async () => lw?.stop());

  it('lists once, then watches from the list’s version and applies each change in memory', async () => {
    const server = new FakeCollection<Thing>();
    server.put(thing('a'));
    const f = following(server);
    lw = f.lw;
    f.lw.start();
    await until(() => server.open === 1, 'a watch');
    expect(server.calls).toEqual(['list', 'watch@101']);
    expect(f.lw.synced).toBe(true);
    expect(f.seen()).toEqual({ a: 'red' });

    server.put(thing('b', 'blue'));
    server.put(thing('a', 'green'));
    server.remove('b');
    expect(f.seen()).toEqual({ a: 'green' });
    expect(f.changes()).toBe(4); // the list, then three events
    // Answers come from memory: nothing more was asked of the server.
    expect(server.calls).toEqual(['list', 'watch@101']);
  });

  it('resumes a watch the server ended on its timeout from the last version seen (bookmarks included), without a list', async () => {
    const server = new FakeCollection<Thing>();
    const f = following(server);
    lw = f.lw;
    f.lw.start();
    await until(() => server.open === 1, 'a watch');
    server.put(thing('a'));
    server.bookmark();
    f.clock.now += 300_000;
    server.timeOut();
    await until(() => server.open === 1, 'the watch resumed');
    expect(server.calls).toEqual(['list', 'watch@100', 'watch@102']);
    expect(f.lw.failuresInARow).toBe(0);
    expect(f.lw.error).toBeUndefined();
  });

  it('lists again on 410 Gone, and then holds what the server has (changes missed meanwhile included)', async () => {
    const server = new FakeCollection<Thing>();
    server.put(thing('a'));
    server.put(thing('b'));
    const f = following(server);
    lw = f.lw;
    f.lw.start();
    await until(() => server.open === 1, 'a watch');
    server.removeUnseen('b');
    server.putUnseen(thing('c', 'blue'));
    server.gone();
    await until(() => server.open === 1 && server.calls.length === 4, 'a new list and watch');
    expect(server.calls).toEqual(['list', 'watch@102', 'list', 'watch@104']);
    expect(f.seen()).toEqual({ a: 'red', c: 'blue' });
    expect(f.lw.synced).toBe(true);
  });

  it('keeps what it saw while the server is down, says why, backs off, and lists again once it is back', async () => {
    const server = new FakeCollection<Thing>();
    server.put(thing('a'));
    const f = following(server);
    lw = f.lw;
    f.lw.start();
    await until(() => server.open === 1, 'a watch');

    server.down = new Error('connect ECONNREFUSED 127.0.0.1:32764\n    at somewhere');
    f.clock.now += 60_000;
    server.drop(new Error('socket hang up'));
    await until(() => f.lw.failuresInARow >= 4, 'failed lists in a row');
    expect(f.seen()).toEqual({ a: 'red' });
    expect(f.lw.synced).toBe(false);
    expect(f.lw.error).toBe('connect ECONNREFUSED 127.0.0.1:32764');
    const afterDrop = server.calls.slice(2);
    expect(afterDrop.every((c) => c === 'list')).toBe(true);

    server.down = undefined;
    server.putUnseen(thing('a', 'green'));
    await until(() => server.open === 1, 'a watch again');
    expect(f.seen()).toEqual({ a: 'green' });
    expect(f.lw.synced).toBe(true);
    expect(f.lw.error).toBeUndefined();
    // Back to a healthy watch: the next failure waits the shortest time again.
    f.clock.now += 60_000;
    server.drop();
    await until(() => server.open === 1 && f.lw.synced, 'a watch after the drop');
    expect(f.lw.failuresInARow).toBe(1);
  });

  it('does not spin on a server that ends every watch at once: each counts as a failure and is backed off', async () => {
    const server = new FakeCollection<Thing>();
    const f = following(server);
    lw = f.lw;
    f.lw.start();
    for (let i = 1; i <= 3; i++) {
      await until(() => server.open === 1, 'a watch');
      server.timeOut(); // the clock does not move: the watch lasted no time
      await until(() => f.lw.failuresInARow === i, `failure ${i}`);
    }
    expect(server.calls.filter((c) => c === 'list')).toHaveLength(1);
  });

  it('stops: the open watch is ended, and nothing is asked after', async () => {
    const server = new FakeCollection<Thing>();
    const f = following(server);
    f.lw.start();
    await until(() => server.open === 1, 'a watch');
    await f.lw.stop();
    expect(server.open).toBe(0);
    const calls = server.calls.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(server.calls).toHaveLength(calls);
  });

  it('stops while it waits out a backoff', async () => {
    const server = new FakeCollection<Thing>();
    server.down = new Error('connect ECONNREFUSED');
    const f = new ListWatch(server, { onChange: () => undefined, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    f.start();
    await until(() => f.failuresInARow === 1, 'a failed list');
    await f.stop(); // would hang for a minute if the wait were not cut short
    expect(server.calls).toEqual(['list']);
  });
});

describe('backoffDelay', () => {
  it('doubles from the first wait up to the longest', () => {
    const b = { initialMs: 250, maxMs: 5_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(b, n))).toEqual([
      0, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000,
    ]);
  });
});
