import { readFileSync } from 'node:fs';
import { codecFromEnv } from '../../codec/data-converter';
import { startCodecServer } from '../../codec/codec-server';
import { InvalidInputError } from '../../domain/errors';
import { regularFileProblem } from '../../temporal/connection-config';
import { createLogger } from '../../worker/logger';
import type { CommandContext } from '../command';

/**
 * `meridian codec-server`: the Temporal codec server protocol over MERIDIAN_CODEC_KEYS, so the Web UI
 * (Settings, Codec Server) and `temporal --codec-endpoint` show encrypted payloads. Runs until SIGINT or
 * SIGTERM. A token (MERIDIAN_CODEC_SERVER_TOKEN or --token-file) makes every call need it as a bearer token.
 */
export async function codecServerCommand(
  values: { host: string; port: number; uiOrigin?: string[]; tokenFile?: string },
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  const codec = codecFromEnv(ctx.env);
  if (!codec)
    throw new InvalidInputError(
      'meridian codec-server needs MERIDIAN_CODEC_KEYS or MERIDIAN_CODEC_KEYS_FILE: the same keys as the worker',
    );
  const origins = (values.uiOrigin ?? []).map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new InvalidInputError(
        `--ui-origin "${origin}" is not a URL: give the Web UI's origin, e.g. http://127.0.0.1:8233`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new InvalidInputError(`--ui-origin "${origin}" must be an http or https URL`);
    return url.origin;
  });
  const token = codecServerToken(values.tokenFile, ctx.env);
  const server = await startCodecServer({ host: values.host, port: values.port, codec, origins, token });
  const logger = createLogger(ctx.env.MERIDIAN_LOG_LEVEL ?? 'info');
  logger.info(
    { url: server.url, origins, token: token ? 'required' : 'none', encryptingKey: codec.encryptingKeyId },
    'codec server started',
  );
  ctx.err(
    `codec server at ${server.url}${origins.length ? ` for ${origins.join(', ')}` : ' (no --ui-origin: the Web UI cannot call it)'}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  logger.info('codec server stopped');
  return 0;
}

/** The bearer token: --token-file (its first line) over MERIDIAN_CODEC_SERVER_TOKEN; none when neither is set. */
function codecServerToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file !== undefined) {
    const problem = regularFileProblem(file, 64 * 1024);
    if (problem) throw new InvalidInputError(`--token-file ${file} ${problem}: give a file holding the token`);
    const token = readFileSync(file, 'utf8').split(/\r?\n/)[0].trim();
    if (!token) throw new InvalidInputError(`--token-file ${file} is empty: put the token on its first line`);
    return token;
  }
  const token = env.MERIDIAN_CODEC_SERVER_TOKEN?.trim();
  return token || undefined;
}
