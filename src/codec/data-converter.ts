/**
 * The one place the codec is configured from the environment, used by the worker, the worker's own
 * client, the CLI's client and `meridian codec-server`. No keys configured means no codec: payloads
 * stay plain (the local rig's default).
 */
import type { DataConverter } from '@temporalio/common';
import { InvalidInputError } from '../domain/errors';
import { AesGcmPayloadCodec, type CodecCompression } from './aes-gcm-codec';
import { codecKeysFromEnv } from './codec-keys';

/** The codec MERIDIAN_CODEC_KEYS (or _FILE) and MERIDIAN_CODEC_COMPRESSION configure, or undefined when no key is set. */
export function codecFromEnv(env: NodeJS.ProcessEnv): AesGcmPayloadCodec | undefined {
  const compression = compressionFromEnv(env);
  const keys = codecKeysFromEnv(env);
  if (keys.length === 0) {
    if (compression === 'gzip')
      throw new InvalidInputError(
        'MERIDIAN_CODEC_COMPRESSION=gzip needs MERIDIAN_CODEC_KEYS or MERIDIAN_CODEC_KEYS_FILE: compression runs inside the encrypting codec',
      );
    return undefined;
  }
  return new AesGcmPayloadCodec(keys, compression);
}

/** `dataConverter` for Worker.create and new Client: the codec when keys are set, else undefined (plain payloads). */
export function dataConverterFromEnv(
  env: NodeJS.ProcessEnv,
): (DataConverter & { payloadCodecs: AesGcmPayloadCodec[] }) | undefined {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}

function compressionFromEnv(env: NodeJS.ProcessEnv): CodecCompression {
  const value = env.MERIDIAN_CODEC_COMPRESSION?.trim().toLowerCase();
  if (!value || value === 'none') return 'none';
  if (value === 'gzip') return 'gzip';
  throw new InvalidInputError(`MERIDIAN_CODEC_COMPRESSION is "${env.MERIDIAN_CODEC_COMPRESSION}": use gzip or none`);
}
