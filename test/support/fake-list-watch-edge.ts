import type { ListWatchEdge, WatchedObject } from '../../src/rig/list-watch';

/** One watch the fake server holds open. */
interface OpenWatch {
  from: string;
  onEvent: (type: string, object: unknown) => void;
  done: (err?: unknown) => void;
  open: boolean;
}

/**
 * A collection on a stand-in API server: objects with resource versions, lists, watches that get each
 * change, and the ways a real server lets a watch down (410 Gone, a dropped connection, its own timeout,
 * being down).
 */
export class FakeCollection<T extends WatchedObject> implements ListWatchEdge<T> {
  private objects = new Map<string, T>();
  private version = 100;
  /** Lists fail while this is set (the server is down). */
  down?: Error;
  /** How each list and watch was asked for, in order: `list`, or `watch@<resourceVersion>`. */
  readonly calls: string[] = [];
  private watches: OpenWatch[] = [];

  async list(): Promise<{ items: T[]; resourceVersion: string }> {
    this.calls.push('list');
    if (this.down) throw this.down;
    return { items: [...this.objects.values()], resourceVersion: String(this.version) };
  }

  async watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    done: (err?: unknown) => void,
  ): Promise<{ abort(): void }> {
    this.calls.push(`watch@${resourceVersion}`);
    const w: OpenWatch = { from: resourceVersion, onEvent, done, open: true };
    if (this.down) {
      done(this.down);
      return { abort: () => undefined };
    }
    this.watches.push(w);
    return { abort: () => this.end(w, new Error('The operation was aborted')) };
  }

  /** Watches open now. */
  get open(): number {
    return this.watches.filter((w) => w.open).length;
  }

  /** Adds or changes an object, and tells the open watches. */
  put(object: T): void {
    const name = object.metadata?.name ?? '';
    const type = this.objects.has(name) ? 'MODIFIED' : 'ADDED';
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.version) } } as T;
    this.objects.set(name, stored);
    this.send(type, stored);
  }

  /** Deletes an object, and tells the open watches. */
  remove(name: string): void {
    const object = this.objects.get(name);
    if (!object) return;
    this.objects.delete(name);
    this.send('DELETED', { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.version) } });
  }

  /** Changes an object without telling the watches: as if the change happened while nobody watched. */
  putUnseen(object: T): void {
    const name = object.metadata?.name ?? '';
    this.objects.set(name, { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.version) } });
  }

  /** Deletes an object without telling the watches. */
  removeUnseen(name: string): void {
    this.objects.delete(name);
    this.version++;
  }

  /** A bookmark: the version moves on with no change to the objects. */
  bookmark(): void {
    this.version++;
    this.send('BOOKMARK', { metadata: { resourceVersion: String(this.version) } });
  }

  /** The watched version was compacted away: an ERROR event with a 410 Status, then the end of the watch. */
  gone(): void {
    for (const w of this.watches.filter((x) => x.open)) {
      w.onEvent('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' });
      this.end(w);
    }
  }

  /** The connection drops (or the server dies): each watch ends with an error. */
  drop(err = new Error('socket hang up')): void {
    for (const w of this.watches.filter((x) => x.open)) this.end(w, err);
  }

  /** The server ends each watch on its timeout, cleanly. */
  timeOut(): void {
    for (const w of this.watches.filter((x) => x.open)) this.end(w);
  }

  private send(type: string, object: unknown): void {
    for (const w of this.watches.filter((x) => x.open)) w.onEvent(type, object);
  }

  private end(w: OpenWatch, err?: unknown): void {
    if (!w.open) return;
    w.open = false;
    w.done(err);
  }
}

/** Lets the loop under test run until `check` holds (or fails after about a second of real time). */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never happened: ${what}`);
}
