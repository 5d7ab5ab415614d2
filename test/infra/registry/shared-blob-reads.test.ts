import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { DigestMismatchError, digestOf, isVerifiedAs } from '../../../src/infra/registry/content-digest';
import { SharedBlobReads } from '../../../src/infra/registry/shared-blob-reads';

const content = randomBytes(64 * 1024);
const digest = digestOf(content);

/** Chunks of `bytes`, `size` at a time. */
const chunked = (bytes: Buffer, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

/** Reads a stream to its end; its error, if it has one, instead of throwing. */
async function drain(stream: Readable): Promise<{ out: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { out: Buffer.concat(chunks) };
  } catch (error) {
    return { out: Buffer.concat(chunks), error };
  }
}

/** A download the test feeds by hand, and how often one was started. */
function source(bytes: Buffer = content) {
  const started: { signal: AbortSignal; feed: PassThrough }[] = [];
  return {
    started,
    start: async (signal: AbortSignal) => {
      const feed = new PassThrough();
      started.push({ signal, feed });
      return feed;
    },
    /** Sends the whole blob through the n-th download, in 1 KiB chunks. */
    send(n = 0) {
      for (const chunk of chunked(bytes, 1024)) started[n].feed.write(chunk);
      started[n].feed.end();
    },
  };
}

describe('SharedBlobReads', () => {
  it('serves copies that ask near the start from one download, each with every byte, checked', async () => {
    const reads = new SharedBlobReads();
    const blob = source();
    const request = { key: 'src/app@x', digest, size: content.length, start: blob.start };
    const first = await reads.read(request);
    blob.started[0].feed.write(content.subarray(0, 1000)); // under way: the second joins and gets these too
    await new Promise((r) => setImmediate(r));
    const second = await reads.read(request);
    blob.started[0].feed.write(content.subarray(1000));
    blob.started[0].feed.end();

    const [a, b] = await Promise.all([drain(first), drain(second)]);
    expect(blob.started).toHaveLength(1);
    expect(a.out.equals(content)).toBe(true);
    expect(b.out.equals(content)).toBe(true);
    expect(isVerifiedAs(first, digest, content.length)).toBe(true);
    expect(isVerifiedAs(first, digest, content.length + 1)).toBe(false);
  });

  it('keeps a small blob a while after its download ended, for a copy that asks late, within a byte budget', async () => {
    const reads = new SharedBlobReads({ keepFinishedMs: 50, keepFinishedBytes: content.length });
    const blob = source();
    const request = { key: 'src/app@x', digest, size: content.length, start: blob.start };
    const first = await reads.read(request);
    blob.send();
    expect((await drain(first)).out.equals(content)).toBe(true);

    const late = await reads.read(request);
    expect(blob.started).toHaveLength(1);
    expect((await drain(late)).out.equals(content)).toBe(true);
    expect(isVerifiedAs(late, digest, content.length)).toBe(true);

    // A second kept blob goes over the budget: the older one is forgotten.
    const other = randomBytes(1000);
    const otherBlob = source(other);
    const otherRequest = { key: 'src/app@y', digest: digestOf(other), size: other.length, start: otherBlob.start };
    const y = await reads.read(otherRequest);
    otherBlob.send();
    await drain(y);
    expect(reads.joinable).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.joinable).toBe(0);
    await reads.read(request).then((again) => again.destroy());
    expect(blob.started).toHaveLength(2);
  });

  it('starts another download for a copy that comes once the first is past its join window', async () => {
    const reads = new SharedBlobReads({ joinWindowBytes: 4096 });
    const blob = source();
    const request = { key: 'src/app@x', digest, size: content.length, start: blob.start };
    const first = await reads.read(request);
    const firstRead = drain(first);
    for (const chunk of chunked(content.subarray(0, 8192), 1024)) blob.started[0].feed.write(chunk);
    await new Promise((r) => setImmediate(r));
    expect(reads.joinable).toBe(0);

    const late = await reads.read(request);
    expect(blob.started).toHaveLength(2);
    blob.started[0].feed.end(content.subarray(8192));
    blob.send(1);
    expect((await firstRead).out.equals(content)).toBe(true);
    expect((await drain(late)).out.equals(content)).toBe(true);
  });

  it('fails every reader on bytes with another digest, and none of them gets the whole blob', async () => {
    const reads = new SharedBlobReads();
    const tampered = Buffer.from(content);
    tampered[100] ^= 1;
    const blob = source(tampered);
    const request = { key: 'src/app@x', digest, size: content.length, start: blob.start };
    const readers = [await reads.read(request), await reads.read(request)];
    blob.send();
    for (const { out, error } of await Promise.all(readers.map(drain))) {
      expect(error).toBeInstanceOf(DigestMismatchError);
      expect(out.length).toBeLessThan(content.length);
    }
  });

  it('passes a failure to start to every copy waiting for it', async () => {
    const reads = new SharedBlobReads();
    const refused = new Error('no blob x in src');
    const start = jest.fn(async () => {
      await new Promise((r) => setImmediate(r));
      throw refused;
    });
    const request = { key: 'src/app@x', digest, size: content.length, start };
    const results = await Promise.allSettled([reads.read(request), reads.read(request)]);
    expect(start).toHaveBeenCalledTimes(1);
    expect(results).toEqual([
      { status: 'rejected', reason: refused },
      { status: 'rejected', reason: refused },
    ]);
  });

  it('keeps the download going for the others when one copy is cancelled, and stops it when none is left', async () => {
    const reads = new SharedBlobReads();
    const blob = source();
    const cancel = new AbortController();
    const request = { key: 'src/app@x', digest, size: content.length, start: blob.start };
    const cancelled = await reads.read({ ...request, signal: cancel.signal });
    const kept = await reads.read(request);
    blob.started[0].feed.write(content.subarray(0, 1000));
    cancel.abort(new Error('activity cancelled'));
    expect((await drain(cancelled)).error).toEqual(new Error('activity cancelled'));
    expect(blob.started[0].signal.aborted).toBe(false);
    blob.started[0].feed.end(content.subarray(1000));
    expect((await drain(kept)).out.equals(content)).toBe(true);

    const other = source();
    const alone = await reads.read({ key: 'src/app@y', digest, size: content.length, start: other.start });
    alone.destroy();
    await new Promise((r) => setImmediate(r));
    expect(other.started[0].signal.aborted).toBe(true);
  });

  it('gives up waiting for the download to start when the copy is cancelled', async () => {
    const reads = new SharedBlobReads();
    const cancel = new AbortController();
    const waiting = reads.read({
      key: 'src/app@x',
      digest,
      size: content.length,
      start: () => new Promise<Readable>(() => undefined),
      signal: cancel.signal,
    });
    cancel.abort(new Error('activity cancelled'));
    await expect(waiting).rejects.toThrow('activity cancelled');
  });

  it('counts the bytes handed to each reader', async () => {
    const reads = new SharedBlobReads();
    const blob = source();
    let counted = 0;
    const reader = await reads.read({
      key: 'src/app@x',
      digest,
      size: content.length,
      start: blob.start,
      onBytes: (n) => (counted += n),
    });
    blob.send();
    await drain(reader);
    expect(counted).toBe(content.length);
  });
});
