import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Content digests (`sha256:<hex>`) and a stream that checks one while the bytes pass. A copy trusts no
 * registry: every manifest and blob is hashed on the way through, so corrupt bytes are never stored
 * under a digest they do not have.
 */

const DIGEST = /^(sha256|sha512):([a-f0-9]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** Whether the text is a digest this client can verify. */
export function isDigest(text: string): boolean {
  const m = DIGEST.exec(text);
  return m !== null && m[2].length === HEX_LENGTH[m[1]];
}

/** The hash algorithm a digest names, or an error saying what a digest looks like. */
export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  if (!isDigest(digest))
    throw new Error(`${JSON.stringify(digest)} is not a content digest: expected sha256: and 64 lowercase hex digits`);
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** The digest of some bytes, with sha256 unless another algorithm is asked for. */
export function digestOf(data: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Bytes whose digest or size is not the one their descriptor promised. */
export class DigestMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly expectedSize: number | undefined,
    readonly actualSize: number,
  ) {
    super(
      actual !== expected
        ? `content has digest ${actual}, not ${expected}`
        : `content has ${actualSize} bytes, not the ${expectedSize} its descriptor gives`,
    );
    this.name = 'DigestMismatchError';
  }
}

/**
 * A pass-through stream that fails with DigestMismatchError when the bytes do not hash to `expected`
 * (or do not add up to `expectedSize`, when given). It holds back the last chunk until the check
 * passes, so a reader that sends the bytes on (an upload) never delivers a complete wrong blob: the
 * receiver sees the stream break before its end.
 */
export function verifyDigestStream(expected: string, expectedSize?: number): Transform {
  const algorithm = digestAlgorithm(expected);
  const hash = createHash(algorithm);
  let size = 0;
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      const previous = held;
      held = chunk;
      if (expectedSize !== undefined && size > expectedSize)
        done(new DigestMismatchError(expected, expected, expectedSize, size));
      else done(null, previous);
    },
    flush(done: TransformCallback) {
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== expected || (expectedSize !== undefined && size !== expectedSize)) {
        done(new DigestMismatchError(expected, actual, expectedSize, size));
      } else done(null, held);
    },
  });
}

/** Streams whose bytes something upstream checks as verifyDigestStream does, by the object itself. */
const verified = new WeakMap<object, { digest: string; size: number }>();

/**
 * Records that the stream's bytes are checked against `digest` and `size` before its end, as
 * verifyDigestStream checks them (the last chunk held back until they match), so that an upload
 * need not hash them a second time. Only for a stream fed, unchanged, by such a check.
 */
export function markVerified(stream: object, digest: string, size: number): void {
  verified.set(stream, { digest, size });
}

/** Whether the stream was marked as checked against exactly this digest and size. */
export function isVerifiedAs(stream: object, digest: string, size: number): boolean {
  const mark = verified.get(stream);
  return mark !== undefined && mark.digest === digest && mark.size === size;
}
