import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DigestMismatchError,
  digestAlgorithm,
  digestOf,
  isDigest,
  verifyDigestStream,
} from '../../../src/infra/registry/content-digest';

const content = Buffer.from('layer bytes '.repeat(1000));
const digest = digestOf(content);

/** Streams chunks through a verifier and returns what came out, or the error it failed with. */
async function passThrough(
  chunks: Buffer[],
  expected: string,
  size?: number,
): Promise<{ out: Buffer; error?: unknown }> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      done();
    },
  });
  try {
    await pipeline(Readable.from(chunks), verifyDigestStream(expected, size), sink);
    return { out: Buffer.concat(out) };
  } catch (error) {
    return { out: Buffer.concat(out), error };
  }
}

const chunked = (data: Buffer, size: number) =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

describe('digests', () => {
  it('knows a digest when it sees one', () => {
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(isDigest(digest)).toBe(true);
    expect(isDigest(`sha512:${'a'.repeat(128)}`)).toBe(true);
    expect(isDigest('sha256:ABC')).toBe(false);
    expect(isDigest(`sha256:${'A'.repeat(64)}`)).toBe(false);
    expect(() => digestAlgorithm('md5:x')).toThrow('"md5:x" is not a content digest');
  });
});

describe('verifyDigestStream', () => {
  it('passes matching bytes through unchanged', async () => {
    const { out, error } = await passThrough(chunked(content, 1000), digest, content.length);
    expect(error).toBeUndefined();
    expect(out.equals(content)).toBe(true);
  });

  it('fails on bytes with another digest, and holds back the last chunk so the receiver never gets them all', async () => {
    const tampered = Buffer.from(content);
    tampered[tampered.length - 1] ^= 1;
    const { out, error } = await passThrough(chunked(tampered, 1000), digest, content.length);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as Error).message).toBe(`content has digest ${digestOf(tampered)}, not ${digest}`);
    expect(out.length).toBeLessThan(content.length);
  });

  it('fails on a size other than the descriptor gives, even with the right digest', async () => {
    const { error } = await passThrough([content], digest, content.length + 1);
    expect((error as Error).message).toBe(
      `content has ${content.length} bytes, not the ${content.length + 1} its descriptor gives`,
    );
  });

  it('fails as soon as more bytes arrive than the descriptor gives', async () => {
    const { out, error } = await passThrough(chunked(Buffer.concat([content, content]), 1000), digest, content.length);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(out.length).toBeLessThan(content.length);
  });
});
