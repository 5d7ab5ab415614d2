/**
 * A PayloadCodec that encrypts every payload with AES-256-GCM before it reaches Temporal, so workflow
 * histories hold ciphertext only. Each encoded payload carries `encoding: binary/encrypted` and
 * `encryption-key-id: <id>`; its data is a 12-byte random IV, the ciphertext and the 16-byte tag. The
 * additional authenticated data binds the key id and compression, so changing either is detected.
 * Optional gzip runs before encryption and is recorded as `meridian-compression: gzip`. Payloads that
 * are not encrypted pass through decode unchanged: histories recorded before encryption stay readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ExitCode, MeridianError } from '../domain/errors';
import type { CodecKey } from './codec-keys';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Metadata `encoding` of an encrypted payload. */
export const encryptedEncoding = 'binary/encrypted';
/** Metadata key naming the key that encrypted a payload. */
export const keyIdMetadata = 'encryption-key-id';
/** Metadata key recording the compression applied before encryption (absent: none). */
export const compressionMetadata = 'meridian-compression';

/** Compression applied to a payload before it is encrypted. */
export type CodecCompression = 'gzip' | 'none';

const ivBytes = 12;
const tagBytes = 16;
const decompressedLimit = 64 * 1024 * 1024;

/**
 * A payload could not be decrypted (unknown key id, altered data) or is malformed. Exit code 2: the fix
 * is a key (MERIDIAN_CODEC_KEYS) or the data, not a retry. Names the key id, never the key.
 */
export class PayloadCodecError extends MeridianError {
  readonly exitCode = ExitCode.invalidInput;
}

/** AES-256-GCM payload codec over a list of keys: the first encrypts, all decrypt. */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly encryptWith: CodecKey;
  private readonly byId: ReadonlyMap<string, CodecKey>;

  constructor(
    keys: readonly CodecKey[],
    /** gzip before encrypting (recorded in each payload); `none` by default. */
    readonly compression: CodecCompression = 'none',
  ) {
    if (keys.length === 0) throw new Error('AesGcmPayloadCodec needs at least one key');
    this.encryptWith = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** Id of the key new payloads are encrypted with. */
  get encryptingKeyId(): string {
    return this.encryptWith.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => this.encryptOne(p)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => this.decryptOne(p)));
  }

  private async encryptOne(payload: Payload): Promise<Payload> {
    let plain: Buffer = Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish());
    let compression: CodecCompression = 'none';
    if (this.compression === 'gzip') {
      const packed = await gzipAsync(plain);
      // Small or already-compressed payloads grow under gzip: keep those as they are.
      if (packed.length < plain.length) {
        plain = packed;
        compression = 'gzip';
      }
    }
    const { id, key } = this.encryptWith;
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
    cipher.setAAD(additionalData(id, compression));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    const metadata: Record<string, Uint8Array> = {
      encoding: Buffer.from(encryptedEncoding),
      [keyIdMetadata]: Buffer.from(id),
    };
    if (compression !== 'none') metadata[compressionMetadata] = Buffer.from(compression);
    return { metadata, data: sealed };
  }

  private async decryptOne(payload: Payload): Promise<Payload> {
    if (text(payload.metadata?.encoding) !== encryptedEncoding) return payload;
    const id = text(payload.metadata?.[keyIdMetadata]);
    if (!id)
      throw new PayloadCodecError(
        `an encrypted payload has no ${keyIdMetadata}: it was not written by Meridian's codec, or was altered`,
      );
    const entry = this.byId.get(id);
    if (!entry) {
      throw new PayloadCodecError(
        `a payload is encrypted with key "${id}", which is not configured (keys: ${[...this.byId.keys()].join(', ')}): add key "${id}" to MERIDIAN_CODEC_KEYS (after the one that encrypts) to read it`,
      );
    }
    const compression = text(payload.metadata?.[compressionMetadata]) ?? 'none';
    if (compression !== 'gzip' && compression !== 'none')
      throw new PayloadCodecError(
        `a payload encrypted with key "${id}" names unknown compression "${compression.slice(0, 20)}"`,
      );
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < ivBytes + tagBytes)
      throw new PayloadCodecError(
        `a payload encrypted with key "${id}" is ${data.length} bytes, too short to hold an IV and a tag: it was cut or altered`,
      );
    const decipher = createDecipheriv('aes-256-gcm', entry.key, data.subarray(0, ivBytes), { authTagLength: tagBytes });
    decipher.setAAD(additionalData(id, compression));
    decipher.setAuthTag(data.subarray(data.length - tagBytes));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(
        `a payload encrypted with key "${id}" failed authentication: it was altered, or the key configured as "${id}" is not the one that encrypted it`,
      );
    }
    if (compression === 'gzip') plain = await gunzipAsync(plain, { maxOutputLength: decompressedLimit });
    const inner = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: { ...inner.metadata }, data: inner.data };
  }
}

/** What GCM authenticates beside the ciphertext: format version, key id and compression. */
function additionalData(keyId: string, compression: CodecCompression): Buffer {
  return Buffer.from(`meridian-codec-v1\0${keyId}\0${compression}`);
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}
