import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, PayloadCodecError } from '../../src/codec/aes-gcm-codec';
import type { CodecKey } from '../../src/codec/codec-keys';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const k1 = key('k1');
const k2 = key('k2');
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();

const release = {
  releaseId: 'release-shop-api-2.4.0',
  regions: Array.from({ length: 40 }, (_, i) => ({
    name: `region-${i}`,
    wave: i % 4,
    note: 'the same words again and again',
  })),
};

async function roundTrip(codec: AesGcmPayloadCodec, value: unknown): Promise<unknown> {
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
  const [decoded] = await codec.decode([encoded]);
  return defaultPayloadConverter.fromPayload(decoded);
}

describe('AesGcmPayloadCodec', () => {
  it('round-trips real Temporal payloads (JSON, binary, undefined) and hides their contents', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    for (const value of [release, 'plain text', 42, null, undefined, new Uint8Array([1, 2, 3])]) {
      expect(await roundTrip(codec, value)).toEqual(value);
    }
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(release)]);
    expect(text(encoded.metadata?.encoding)).toBe('binary/encrypted');
    expect(text(encoded.metadata?.['encryption-key-id'])).toBe('k1');
    expect(encoded.metadata?.['meridian-compression']).toBeUndefined();
    expect(text(encoded.data)).not.toContain('shop-api');
    // The original metadata (json/plain) is inside the ciphertext too.
    expect(Object.keys(encoded.metadata ?? {}).sort()).toEqual(['encoding', 'encryption-key-id']);
  });

  it('lays data out as a 12-byte IV, the ciphertext and a 16-byte tag, with a fresh IV each time', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const payload = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([payload, payload]);
    const plainLength = (await import('@temporalio/proto')).temporal.api.common.v1.Payload.encode(payload).finish()
      .length;
    expect(a.data?.length).toBe(12 + plainLength + 16);
    expect(Buffer.from(a.data!.subarray(0, 12)).equals(Buffer.from(b.data!.subarray(0, 12)))).toBe(false);
  });

  it('rotates keys: the first encrypts, older ones still decrypt', async () => {
    const old = new AesGcmPayloadCodec([k1]);
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    const [fromBefore] = await old.encode([defaultPayloadConverter.toPayload('written under k1')]);
    const [fromNow] = await rotated.encode([defaultPayloadConverter.toPayload('written under k2')]);
    expect(text(fromNow.metadata?.['encryption-key-id'])).toBe('k2');
    expect(rotated.encryptingKeyId).toBe('k2');
    const decoded = await rotated.decode([fromBefore, fromNow]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      'written under k1',
      'written under k2',
    ]);
  });

  it('refuses a payload whose key id is unknown, naming the id and never a key', async () => {
    const [encoded] = await new AesGcmPayloadCodec([key('k0')]).encode([defaultPayloadConverter.toPayload('x')]);
    const codec = new AesGcmPayloadCodec([k2, k1]);
    const err = await codec.decode([encoded]).catch((e: unknown) => e as PayloadCodecError);
    expect(err).toBeInstanceOf(PayloadCodecError);
    expect((err as Error).message).toMatch(/key "k0", which is not configured \(keys: k2, k1\)/);
    expect((err as Error).message).not.toContain(k1.key.toString('base64'));
  });

  describe('refuses tampering', () => {
    const codec = new AesGcmPayloadCodec([k1, k2], 'gzip');
    const encodeOne = async () => (await codec.encode([defaultPayloadConverter.toPayload(release)]))[0];
    const flip = (data: Uint8Array, at: number) => {
      const copy = Buffer.from(data);
      copy[at] ^= 0x01;
      return copy;
    };

    it.each([
      ['a ciphertext byte', (p: Payload) => ({ ...p, data: flip(p.data!, 20) })],
      ['the tag', (p: Payload) => ({ ...p, data: flip(p.data!, p.data!.length - 1) })],
      ['the IV', (p: Payload) => ({ ...p, data: flip(p.data!, 0) })],
      [
        'the key id (another configured key)',
        (p: Payload) => ({ ...p, metadata: { ...p.metadata, 'encryption-key-id': Buffer.from('k2') } }),
      ],
      [
        'the compression flag',
        (p: Payload) => ({ ...p, metadata: { ...p.metadata, 'meridian-compression': Buffer.from('none') } }),
      ],
    ])('%s', async (_what, tamper) => {
      const encoded = await encodeOne();
      await expect(codec.decode([tamper(encoded)])).rejects.toThrow(/failed authentication/);
    });

    it('data cut too short', async () => {
      const encoded = await encodeOne();
      await expect(codec.decode([{ ...encoded, data: encoded.data!.subarray(0, 20) }])).rejects.toThrow(/too short/);
    });

    it('an encrypted payload with no key id', async () => {
      const encoded = await encodeOne();
      await expect(codec.decode([{ ...encoded, metadata: { encoding: encoded.metadata!.encoding } }])).rejects.toThrow(
        /no encryption-key-id/,
      );
    });
  });

  it('passes payloads that are not encrypted through decode unchanged (histories from before encryption)', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const plain = defaultPayloadConverter.toPayload({ recorded: 'before encryption' });
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('compresses with gzip before encrypting when asked, and records it', async () => {
    const gzip = new AesGcmPayloadCodec([k1], 'gzip');
    const plain = new AesGcmPayloadCodec([k1]);
    const payload = defaultPayloadConverter.toPayload(release);
    const [packed] = await gzip.encode([payload]);
    const [unpacked] = await plain.encode([payload]);
    expect(text(packed.metadata?.['meridian-compression'])).toBe('gzip');
    expect(packed.data!.length).toBeLessThan(unpacked.data!.length / 2);
    expect(await roundTrip(gzip, release)).toEqual(release);
    // A codec without compression still reads compressed payloads, and the other way round.
    expect(defaultPayloadConverter.fromPayload((await plain.decode([packed]))[0])).toEqual(release);
    expect(defaultPayloadConverter.fromPayload((await gzip.decode([unpacked]))[0])).toEqual(release);
  });

  it('leaves a payload that gzip would grow uncompressed', async () => {
    const [encoded] = await new AesGcmPayloadCodec([k1], 'gzip').encode([
      defaultPayloadConverter.toPayload(randomBytes(64)),
    ]);
    expect(encoded.metadata?.['meridian-compression']).toBeUndefined();
  });
});
