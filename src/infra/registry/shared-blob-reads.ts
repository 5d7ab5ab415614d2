import { PassThrough, pipeline, type Readable } from 'node:stream';
import { markVerified, verifyDigestStream } from './content-digest';

/**
 * One download of a source blob for every copy in this process that wants it at about the same time.
 * A release copies its image to several regional registries at once; without this, each copy reads
 * every blob from the source and hashes it on its own (three registries: three reads, three hashes).
 * Here the first copy to ask starts the download, the bytes are checked against the digest once, and
 * every copy that asks while the download is still near its start (within `joinWindowBytes`: those
 * bytes are kept and replayed to it) gets its own stream of the same bytes.
 *
 * Each copy's stream is checked as verifyDigestStream checks one: the last chunk is held back until the
 * digest and size match, so no upload ever delivers a complete wrong blob. The download goes at the
 * pace of its slowest reader (each has `branchBufferBytes` of slack); a reader that goes away (its copy
 * failed or was cancelled) leaves the others reading, and the download stops when none is left.
 *
 * A blob no bigger than the join window is kept whole, checked, for a few seconds after its download
 * ends (within a byte budget), so a copy to a slower registry that asks a moment later still reads it
 * from here rather than from the source.
 */

/** Sizes that bound the memory a shared download holds. */
export interface SharedBlobReadsOptions {
  /** A copy can join a download until this many bytes have passed; they are kept for it. Default 8 MiB. */
  joinWindowBytes?: number;
  /** Bytes a reader may fall behind the fastest one before the download waits for it. Default 4 MiB. */
  branchBufferBytes?: number;
  /** How long a small blob stays after its download ended. Default 5 s. */
  keepFinishedMs?: number;
  /** The most bytes of such blobs kept at once; the oldest go first. Default 32 MiB. */
  keepFinishedBytes?: number;
}

/** What one copy asks for. */
export interface SharedBlobRead {
  /** Which download can serve it: the same source registry, repository, digest, size and credential. */
  key: string;
  digest: string;
  /** The descriptor's size: more or fewer bytes fail the check. */
  size: number;
  /** Starts the download; the signal is the shared download's own, aborted when no reader is left. */
  start: (signal: AbortSignal) => Promise<Readable>;
  /** The copy's own signal: aborting it takes this reader away, not the download from the others. */
  signal?: AbortSignal;
  /** Told the length of each chunk handed to this reader. */
  onBytes?: (bytes: number) => void;
}

const DEFAULT_JOIN_WINDOW_BYTES = 8 * 1024 * 1024;
const DEFAULT_BRANCH_BUFFER_BYTES = 4 * 1024 * 1024;
const DEFAULT_KEEP_FINISHED_MS = 5_000;
const DEFAULT_KEEP_FINISHED_BYTES = 32 * 1024 * 1024;

/** A download and its readers. */
class SharedDownload {
  /** Bytes passed so far, kept while a copy can still join; undefined once none can. */
  kept: Buffer[] | undefined = [];
  readers = new Map<PassThrough, ((bytes: number) => void) | undefined>();
  /** Readers whose buffer is full: the download waits until they drain. */
  private readonly full = new Set<PassThrough>();
  passed = 0;
  private source: Readable | undefined;
  private finished = false;
  /** Ended with every byte kept and checked: a newcomer gets them all at once. */
  private complete = false;
  readonly ready: Promise<void>;
  private readonly controller = new AbortController();

  constructor(
    read: SharedBlobRead,
    private readonly joinWindowBytes: number,
    private readonly leave: () => void,
    private readonly keep: (download: SharedDownload) => void,
  ) {
    this.ready = read.start(this.controller.signal).then((download) => {
      const verified = verifyDigestStream(read.digest, read.size);
      pipeline(download, verified, () => undefined); // errors surface through `verified`
      this.source = verified;
      if (this.readers.size === 0) return this.stop(); // every reader left while the download started
      verified.on('data', (chunk: Buffer) => this.pass(chunk));
      verified.once('end', () => this.end());
      verified.once('error', (err) => this.fail(err));
    });
    this.ready.catch((err: unknown) => this.fail(err));
  }

  get joinable(): boolean {
    return this.kept !== undefined && (!this.finished || this.complete);
  }

  /** A new reader, given the bytes kept so far. */
  attach(branch: PassThrough, onBytes?: (bytes: number) => void): void {
    this.readers.set(branch, onBytes);
    for (const chunk of this.kept ?? []) {
      branch.write(chunk);
      onBytes?.(chunk.length);
    }
    if (this.complete) branch.end();
    // The reader sees a failure when it reads (a destroyed stream keeps its error); a reader that has
    // not started reading yet must not make it an unhandled 'error' event.
    branch.on('error', () => undefined);
    branch.on('drain', () => this.drained(branch));
    branch.once('close', () => this.detach(branch));
  }

  private pass(chunk: Buffer): void {
    this.passed += chunk.length;
    if (this.kept) {
      if (this.passed <= this.joinWindowBytes) this.kept.push(chunk);
      else {
        this.kept = undefined;
        this.leave(); // too far along for a newcomer: the next copy starts its own download
      }
    }
    for (const [branch, onBytes] of this.readers) {
      onBytes?.(chunk.length);
      if (!branch.write(chunk)) this.full.add(branch);
    }
    if (this.full.size > 0) this.source?.pause();
  }

  private drained(branch: PassThrough): void {
    this.full.delete(branch);
    if (this.full.size === 0) this.source?.resume();
  }

  private end(): void {
    this.finished = true;
    if (this.kept) {
      this.complete = true;
      this.keep(this);
    } else this.leave();
    for (const branch of this.readers.keys()) branch.end();
  }

  private fail(err: unknown): void {
    this.finished = true;
    this.kept = undefined;
    this.leave();
    for (const branch of this.readers.keys()) branch.destroy(err as Error);
  }

  /** A reader went away (finished, or its copy gave up): the last one out stops the download. */
  private detach(branch: PassThrough): void {
    this.readers.delete(branch);
    this.full.delete(branch);
    if (this.finished) return;
    if (this.readers.size === 0) {
      this.finished = true;
      this.leave();
      this.stop();
    } else if (this.full.size === 0) this.source?.resume();
  }

  private stop(): void {
    this.controller.abort(new DOMException('no copy reads this blob any more', 'AbortError'));
    this.source?.destroy();
  }
}

/** Downloads shared between the copies of one process; see the module comment. */
export class SharedBlobReads {
  private readonly downloads = new Map<string, SharedDownload>();
  /** Finished small blobs still kept, oldest first, with their keys. */
  private readonly finished: { key: string; download: SharedDownload }[] = [];
  private finishedBytes = 0;
  private readonly joinWindowBytes: number;
  private readonly branchBufferBytes: number;
  private readonly keepFinishedMs: number;
  private readonly keepFinishedBytes: number;

  constructor(options: SharedBlobReadsOptions = {}) {
    this.joinWindowBytes = options.joinWindowBytes ?? DEFAULT_JOIN_WINDOW_BYTES;
    this.branchBufferBytes = options.branchBufferBytes ?? DEFAULT_BRANCH_BUFFER_BYTES;
    this.keepFinishedMs = options.keepFinishedMs ?? DEFAULT_KEEP_FINISHED_MS;
    this.keepFinishedBytes = options.keepFinishedBytes ?? DEFAULT_KEEP_FINISHED_BYTES;
  }

  /** Keeps a finished small blob for a while, within the byte budget. */
  private keepFinished(key: string, download: SharedDownload): void {
    const entry = { key, download };
    this.finished.push(entry);
    this.finishedBytes += download.passed;
    while (this.finishedBytes > this.keepFinishedBytes) this.forget(this.finished[0]);
    setTimeout(() => this.forget(entry), this.keepFinishedMs).unref();
  }

  private forget(entry: { key: string; download: SharedDownload }): void {
    const at = this.finished.indexOf(entry);
    if (at < 0) return;
    this.finished.splice(at, 1);
    this.finishedBytes -= entry.download.passed;
    entry.download.kept = undefined;
    if (this.downloads.get(entry.key) === entry.download) this.downloads.delete(entry.key);
  }

  /** Downloads in progress, or small blobs kept after theirs, that a copy can still join (for tests). */
  get joinable(): number {
    return [...this.downloads.values()].filter((d) => d.joinable).length;
  }

  /**
   * The blob's bytes, checked against its digest and size before their end: from a download another
   * copy started, when one is near enough its start, else from a new one. Resolves once the download
   * has started (its failure to start is thrown here).
   */
  async read(read: SharedBlobRead): Promise<Readable> {
    read.signal?.throwIfAborted();
    let download = this.downloads.get(read.key);
    if (!download?.joinable) {
      const started: SharedDownload = new SharedDownload(
        read,
        this.joinWindowBytes,
        () => {
          if (this.downloads.get(read.key) === started) this.downloads.delete(read.key);
        },
        (download) => this.keepFinished(read.key, download),
      );
      this.downloads.set(read.key, started);
      download = started;
    }
    const branch = new PassThrough({ highWaterMark: this.branchBufferBytes });
    markVerified(branch, read.digest, read.size);
    download.attach(branch, read.onBytes);
    const abort = () => branch.destroy(read.signal?.reason as Error);
    read.signal?.addEventListener('abort', abort, { once: true });
    branch.once('close', () => read.signal?.removeEventListener('abort', abort));
    try {
      await untilReadyOrAborted(download.ready, read.signal);
    } catch (err) {
      branch.destroy();
      throw err;
    }
    return branch;
  }
}

/** Waits for the download to start, or for the copy's signal to abort, whichever comes first. */
async function untilReadyOrAborted(ready: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return ready;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([ready, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/** The process's shared downloads: every copy in it uses these unless given others. */
export const sharedBlobReads = new SharedBlobReads();
