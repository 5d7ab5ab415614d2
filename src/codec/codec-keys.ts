/**
 * The codec's keys, from MERIDIAN_CODEC_KEYS (`k2:BASE64,k1:BASE64`) or MERIDIAN_CODEC_KEYS_FILE (the
 * same `id:base64` entries, one a line, `#` comments). The first key encrypts; every key decrypts, so a
 * new key goes first and the old one stays after it until no history needs it. Errors name the variable,
 * the entry or line and the key id, never key material.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidInputError } from '../domain/errors';

/** One AES-256 key and the id recorded beside every payload it encrypts. */
export interface CodecKey {
  /** Stable name of the key, `[A-Za-z0-9._-]{1,64}`, stored in each payload's `encryption-key-id`. */
  id: string;
  /** The 32 key bytes. */
  key: Buffer;
}

/** Largest MERIDIAN_CODEC_KEYS_FILE read: a key file is a few lines. */
export const maxKeysFileBytes = 64 * 1024;

const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const keyBytes = 32;
const hint = 'each entry is id:base64 of 32 random bytes, e.g. k1:$(openssl rand -base64 32)';

/** The keys `env` configures, first the one that encrypts; empty when none is configured. */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv): CodecKey[] {
  const inline = env.MERIDIAN_CODEC_KEYS?.trim() ? env.MERIDIAN_CODEC_KEYS : undefined;
  const file = env.MERIDIAN_CODEC_KEYS_FILE?.trim() ? env.MERIDIAN_CODEC_KEYS_FILE : undefined;
  if (inline && file)
    throw new InvalidInputError('both MERIDIAN_CODEC_KEYS and MERIDIAN_CODEC_KEYS_FILE are set: keep one');
  if (inline) {
    return parseCodecKeys(
      inline.split(',').map((text, i) => ({ text, where: `MERIDIAN_CODEC_KEYS entry ${i + 1}` })),
      'MERIDIAN_CODEC_KEYS',
    );
  }
  if (file) {
    const lines = readKeysFile(file)
      .split(/\r?\n/)
      .map((line, i) => ({ text: line.replace(/#.*$/, ''), where: `MERIDIAN_CODEC_KEYS_FILE (${file}) line ${i + 1}` }))
      .filter((l) => l.text.trim() !== '');
    return parseCodecKeys(lines, `MERIDIAN_CODEC_KEYS_FILE (${file})`);
  }
  return [];
}

/** Parses `id:base64` entries; `where` names each one in errors. */
export function parseCodecKeys(entries: readonly { text: string; where: string }[], variable: string): CodecKey[] {
  const keys: CodecKey[] = [];
  for (const { text, where } of entries) {
    const entry = text.trim();
    const colon = entry.indexOf(':');
    if (colon < 0) throw new InvalidInputError(`${where} is not id:base64: ${hint}`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!keyIdPattern.test(id))
      throw new InvalidInputError(`${where}: the key id must be 1 to 64 of A-Z a-z 0-9 . _ - (${hint})`);
    if (keys.some((k) => k.id === id))
      throw new InvalidInputError(`${where}: key id "${id}" appears twice in ${variable}: give each key its own id`);
    if (!base64Pattern.test(encoded)) throw new InvalidInputError(`${where}: key "${id}" is not valid base64: ${hint}`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== keyBytes) {
      throw new InvalidInputError(
        `${where}: key "${id}" is ${key.length} bytes after base64 decoding, and AES-256 needs exactly ${keyBytes}: ${hint}`,
      );
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) throw new InvalidInputError(`${variable} holds no key: ${hint}`);
  return keys;
}

/** The key file's text. Opened without blocking and checked on the open descriptor, so a fifo or device is refused, not read. */
function readKeysFile(path: string): string {
  const name = `MERIDIAN_CODEC_KEYS_FILE (${path})`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      code === 'ENOENT'
        ? `${name} does not exist: fix the path`
        : `${name} cannot be opened (${code ?? 'error'}): check its permissions`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new InvalidInputError(`${name} is a directory: give the file of keys`);
    if (!stat.isFile())
      throw new InvalidInputError(
        `${name} is not a regular file (a device, fifo or socket): give a regular file of keys`,
      );
    if (stat.size > maxKeysFileBytes)
      throw new InvalidInputError(
        `${name} is ${stat.size} bytes, more than ${maxKeysFileBytes / 1024} KiB: a key file holds a few id:base64 lines`,
      );
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
