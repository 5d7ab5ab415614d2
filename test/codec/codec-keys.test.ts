import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { codecKeysFromEnv } from '../../src/codec/codec-keys';
import { codecFromEnv, dataConverterFromEnv } from '../../src/codec/data-converter';
import { InvalidInputError } from '../../src/domain/errors';

const b64 = (bytes = 32) => randomBytes(bytes).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'meridian-codec-keys-'));

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    codecFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}

describe('codec keys from the environment', () => {
  it('no keys: no codec, plain payloads (the local rig)', () => {
    expect(codecFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({ MERIDIAN_CODEC_COMPRESSION: 'none' })).toBeUndefined();
  });

  it('MERIDIAN_CODEC_KEYS: the first encrypts, all decrypt', async () => {
    const env = { MERIDIAN_CODEC_KEYS: `k2:${b64()}, k1:${b64()}` };
    const keys = codecKeysFromEnv(env);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys.every((k) => k.key.length === 32)).toBe(true);
    const converter = dataConverterFromEnv({ ...env, MERIDIAN_CODEC_COMPRESSION: 'gzip' });
    const codec = converter!.payloadCodecs[0];
    expect(codec.encryptingKeyId).toBe('k2');
    expect(codec.compression).toBe('gzip');
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('x')]);
    expect(defaultPayloadConverter.fromPayload((await codec.decode([encoded]))[0])).toBe('x');
  });

  it('MERIDIAN_CODEC_KEYS_FILE: one id:base64 a line, # comments', () => {
    const file = join(dir, 'keys');
    writeFileSync(file, `# rotated 2025-01\nk2:${b64()}   # current\n\nk1:${b64()}\n`);
    expect(codecKeysFromEnv({ MERIDIAN_CODEC_KEYS_FILE: file }).map((k) => k.id)).toEqual(['k2', 'k1']);
  });

  describe('refuses bad keys, naming the variable and entry, never the key', () => {
    const secret = b64(31);
    it.each([
      [
        'a key of 31 bytes',
        { MERIDIAN_CODEC_KEYS: `k1:${secret}` },
        /MERIDIAN_CODEC_KEYS entry 1: key "k1" is 31 bytes after base64 decoding.*exactly 32/,
      ],
      [
        'a key of 33 bytes',
        { MERIDIAN_CODEC_KEYS: `k1:${b64()},k2:${b64(33)}` },
        /MERIDIAN_CODEC_KEYS entry 2: key "k2" is 33 bytes/,
      ],
      ['an entry without an id', { MERIDIAN_CODEC_KEYS: secret }, /MERIDIAN_CODEC_KEYS entry 1 is not id:base64/],
      [
        'an id with a space',
        { MERIDIAN_CODEC_KEYS: `my key:${b64()}` },
        /MERIDIAN_CODEC_KEYS entry 1: the key id must be 1 to 64/,
      ],
      ['an id of 65 characters', { MERIDIAN_CODEC_KEYS: `${'a'.repeat(65)}:${b64()}` }, /the key id must be 1 to 64/],
      [
        'a duplicate id',
        { MERIDIAN_CODEC_KEYS: `k1:${b64()},k1:${b64()}` },
        /key id "k1" appears twice in MERIDIAN_CODEC_KEYS/,
      ],
      [
        'not base64',
        { MERIDIAN_CODEC_KEYS: `k1:${secret.slice(0, 10)}!!${secret.slice(12)}` },
        /key "k1" is not valid base64/,
      ],
      ['only separators', { MERIDIAN_CODEC_KEYS: ' , ' }, /entry 1 is not id:base64/],
      [
        'both variables',
        { MERIDIAN_CODEC_KEYS: `k1:${b64()}`, MERIDIAN_CODEC_KEYS_FILE: '/etc/keys' },
        /both MERIDIAN_CODEC_KEYS and MERIDIAN_CODEC_KEYS_FILE/,
      ],
      [
        'unknown compression',
        { MERIDIAN_CODEC_KEYS: `k1:${b64()}`, MERIDIAN_CODEC_COMPRESSION: 'zstd' },
        /MERIDIAN_CODEC_COMPRESSION is "zstd": use gzip or none/,
      ],
      [
        'compression without keys',
        { MERIDIAN_CODEC_COMPRESSION: 'gzip' },
        /MERIDIAN_CODEC_COMPRESSION=gzip needs MERIDIAN_CODEC_KEYS/,
      ],
    ])('%s', (_what, env, message) => {
      const text = refusal(env);
      expect(text).toMatch(message);
      expect(text).not.toContain(secret);
    });

    it('a bad line of the file, by line number', () => {
      const file = join(dir, 'bad-line');
      writeFileSync(file, `# keys\nk2:${b64()}\nk1:${secret}\n`);
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: file })).toMatch(
        new RegExp(`MERIDIAN_CODEC_KEYS_FILE \\(${file}\\) line 3: key "k1" is 31 bytes`),
      );
    });

    it('a file with only comments', () => {
      const file = join(dir, 'empty');
      writeFileSync(file, '# none yet\n');
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: file })).toMatch(/holds no key/);
    });
  });

  describe('MERIDIAN_CODEC_KEYS_FILE must be a small regular file', () => {
    it('missing', () => {
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: join(dir, 'absent') })).toMatch(
        /MERIDIAN_CODEC_KEYS_FILE \(.*absent\) does not exist/,
      );
    });
    it('a directory', () => {
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: dir })).toMatch(/is a directory/);
    });
    it('a device', () => {
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: '/dev/zero' })).toMatch(
        /is not a regular file \(a device, fifo or socket\)/,
      );
    });
    it('a fifo, refused without blocking on it', () => {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: fifo })).toMatch(/is not a regular file/);
    });
    it('larger than 64 KiB', () => {
      const big = join(dir, 'big');
      writeFileSync(big, `k1:${b64()}\n${'#'.repeat(70 * 1024)}\n`);
      expect(refusal({ MERIDIAN_CODEC_KEYS_FILE: big })).toMatch(/more than 64 KiB/);
    });
  });
});
