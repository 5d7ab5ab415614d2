import { setTimeout as sleep } from 'node:timers/promises';
import { type KubeConfig, Watch } from '@kubernetes/client-node';

/** The part of a Kubernetes object a list-then-watch reads. */
export interface WatchedObject {
  metadata?: { name?: string; resourceVersion?: string };
}

/** What a watch hands to its callback for each line the API server streams. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * The two calls a list-then-watch makes to an API server, apart from it so that a test can stand in for
 * the server (and make it forget resource versions or drop connections).
 */
export interface ListWatchEdge<T extends WatchedObject> {
  /** Every object, and the collection's resourceVersion to watch from. */
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion` to `onEvent` until the watch ends, then calls `done` once:
   * with the error, or with none when the server ended the watch (its timeout). Resolves once the
   * request is sent, with a way to end it.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    done: (err?: unknown) => void,
  ): Promise<{ abort(): void }>;
}

/** How long to wait before the next list after failures: doubling from `initialMs` up to `maxMs`. */
export interface Backoff {
  /** Wait after the first failure. */
  initialMs: number;
  /** The longest wait. */
  maxMs: number;
}

export interface ListWatchOptions {
  /** Called after every change of the objects held, and when the error changes. */
  onChange: () => void;
  backoff?: Backoff;
  /** A watch that ends sooner than this after it started counts as a failure (no tight loop of watches). */
  minWatchMs?: number;
  now?: () => number;
}

/** Wait after failures, doubling (the first failure waits `initialMs`). */
export function backoffDelay(backoff: Backoff, failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
}

/** The error line a failure reads as: its first line, or the status code the API server answered with. */
function errorLine(err: unknown): string {
  const e = err as { message?: unknown; statusCode?: unknown };
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0] : String(err);
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  return status !== undefined && !message.includes(String(status)) ? `${message} (HTTP ${status})` : message;
}

/** Whether the API server said the resource version is too old to watch from (410 Gone). */
export function isGone(err: unknown): boolean {
  const e = err as { statusCode?: unknown; code?: unknown };
  return e?.statusCode === 410 || e?.code === 410;
}

/**
 * Holds the objects of one collection as the API server has them, in memory: lists once, then watches
 * from the list's resourceVersion and applies each change. When the watch cannot go on (410 Gone: the
 * version was compacted away; a dropped connection; a server that is down) it lists again, waiting
 * longer after each failure in a row. A watch the server ended on its timeout is resumed from the last
 * version seen, without a list. While it fails, the objects last seen are kept and `error` says why.
 */
export class ListWatch<T extends WatchedObject> {
  private objects = new Map<string, T>();
  private resourceVersion = '';
  private listed = false;
  private failures = 0;
  private lastError?: string;
  private stopped = true;
  private request?: { abort(): void };
  private endWatch?: () => void;
  private waiting?: AbortController;
  private running?: Promise<void>;
  private readonly backoff: Backoff;
  private readonly minWatchMs: number;
  private readonly now: () => number;

  constructor(
    private readonly edge: ListWatchEdge<T>,
    private readonly options: ListWatchOptions,
  ) {
    this.backoff = options.backoff ?? { initialMs: 250, maxMs: 5_000 };
    this.minWatchMs = options.minWatchMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** The objects as last seen. */
  items(): T[] {
    return [...this.objects.values()];
  }

  /** Whether a list has succeeded since the last failure: the objects are the server's, kept current. */
  get synced(): boolean {
    return this.listed && this.lastError === undefined;
  }

  /** Why the last list or watch failed, until a list succeeds again. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Lists and watches failed in a row: the backoff's step. */
  get failuresInARow(): number {
    return this.failures;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.run();
  }

  /** Ends the watch and any wait; resolves once the loop has stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.request?.abort();
    this.endWatch?.();
    this.waiting?.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const delay = backoffDelay(this.backoff, this.failures);
      if (delay > 0 && !(await this.pause(delay))) return;
      if (this.stopped) return;
      if (!this.resourceVersion) {
        try {
          await this.relist();
        } catch (err) {
          this.fail(err);
          continue;
        }
        if (this.stopped) return;
      }
      const started = this.now();
      const outcome = await this.watchOnce();
      if (this.stopped) return;
      const lasted = this.now() - started;
      if (lasted >= this.minWatchMs) this.failures = 0;
      if (outcome.gone || outcome.err !== undefined) {
        // The version may be gone, or events lost with the connection: only a list is sure.
        this.resourceVersion = '';
        this.fail(outcome.err ?? new Error('watch ended: resource version too old (410 Gone)'));
      } else if (lasted < this.minWatchMs) {
        // Ended at once without an error: resume, but not in a tight loop.
        this.failures++;
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.edge.list();
    this.objects = new Map(items.map((o) => [o.metadata?.name ?? '', o]));
    this.resourceVersion = resourceVersion;
    this.listed = true;
    this.lastError = undefined;
    this.options.onChange();
  }

  private watchOnce(): Promise<{ err?: unknown; gone?: boolean }> {
    return new Promise((resolve) => {
      let gone = false;
      let ended = false;
      const done = (err?: unknown) => {
        if (ended) return;
        ended = true;
        this.request = undefined;
        this.endWatch = undefined;
        resolve({ ...(err !== undefined && err !== null ? { err } : {}), gone: gone || isGone(err) });
      };
      this.endWatch = () => done();
      const onEvent = (type: string, object: unknown) => {
        if (ended) return;
        if (type === 'ERROR') {
          // A Status object, 410 when the version was compacted away: this watch cannot go on.
          const status = object as { code?: number; message?: string };
          gone = status?.code === 410;
          this.request?.abort();
          done(new Error(`watch error: ${status?.message ?? JSON.stringify(object)}`));
          return;
        }
        const o = object as T;
        const version = o?.metadata?.resourceVersion;
        if (version) this.resourceVersion = version;
        if (type === 'ADDED' || type === 'MODIFIED') this.objects.set(o.metadata?.name ?? '', o);
        else if (type === 'DELETED') this.objects.delete(o.metadata?.name ?? '');
        else return; // BOOKMARK: only the version moves on.
        this.options.onChange();
      };
      this.edge.watch(this.resourceVersion, onEvent, done).then(
        (request) => {
          if (ended || this.stopped) request.abort();
          else this.request = request;
        },
        (err: unknown) => done(err ?? new Error('watch failed')),
      );
    });
  }

  private fail(err: unknown): void {
    this.failures++;
    const line = errorLine(err);
    if (line !== this.lastError) {
      this.lastError = line;
      this.options.onChange();
    }
  }

  /** Waits `ms`, unless stopped meanwhile (false). */
  private async pause(ms: number): Promise<boolean> {
    this.waiting = new AbortController();
    try {
      await sleep(ms, undefined, { signal: this.waiting.signal });
      return true;
    } catch {
      return false;
    } finally {
      this.waiting = undefined;
    }
  }
}

/**
 * The edge to a real API server for one collection at `path` (e.g. `/api/v1/namespaces/shop/pods`):
 * `list` through the typed client the caller hands in, `watch` through the client's Watch, asking for
 * bookmarks (so a resumed watch starts from a recent version) and a server-side timeout of a few
 * minutes (so a connection that went silent is replaced).
 */
export function kubeListWatchEdge<T extends WatchedObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  query: Record<string, string> = {},
): ListWatchEdge<T> {
  const watch = new Watch(kubeConfig);
  return {
    list: async () => {
      const answer = await list();
      return { items: answer.items, resourceVersion: answer.metadata?.resourceVersion ?? '' };
    },
    watch: (resourceVersion, onEvent, done) =>
      watch.watch(
        path,
        {
          ...query,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: 240 + Math.floor(Math.random() * 120),
        },
        (type, object) => onEvent(type, object),
        (err: unknown) => done(err ?? undefined),
      ),
  };
}
