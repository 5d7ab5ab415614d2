/**
 * The Temporal codec server protocol over Meridian's codec, so the Web UI and the `temporal` CLI
 * (`--codec-endpoint`) can show encrypted payloads in clear to the people allowed to see them:
 * `POST /encode` and `POST /decode` take `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`
 * and answer the same shape. CORS admits only the configured UI origins; a token, when set, is required
 * as `Authorization: Bearer <token>` and compared in constant time. Bodies over the limit are 413; bad
 * JSON is 400 with a short message that never repeats the body.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { MeridianError } from '../domain/errors';

/** Default largest request body: the UI sends one history event's payloads at a time. */
export const defaultMaxBodyBytes = 4 * 1024 * 1024;

/** What `startCodecServer` needs. */
export interface CodecServerOptions {
  /** Interface to listen on; 127.0.0.1 keeps it to this machine. */
  host?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** The codec that encodes and decodes. */
  codec: PayloadCodec;
  /** Web UI origins allowed by CORS, e.g. `http://127.0.0.1:8233`. */
  origins?: readonly string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body in bytes. */
  maxBodyBytes?: number;
}

/** A running codec server. */
export interface CodecServer {
  /** Base URL, e.g. `http://127.0.0.1:8888`: the codec endpoint to give the UI and CLI. */
  url: string;
  /** Stops listening and ends open connections. */
  close: () => Promise<void>;
}

/** Why a request is answered with an error status; the message is short and never repeats the body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set((options.origins ?? []).map((o) => o.replace(/\/+$/, '')));
  const tokenDigest = options.token ? sha256(options.token) : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof MeridianError ? 400 : 500;
      const message = err instanceof HttpError || err instanceof MeridianError ? err.message : 'internal error';
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A body we stopped reading is not drained: answer, then drop the connection.
      if (status === 413) {
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.destroy());
      }
      sendJson(res, status, { error: message });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Vary', 'Origin');
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'OPTIONS') {
      if (!origin || !origins.has(origin))
        throw new HttpError(403, 'origin not allowed: start the codec server with --ui-origin for it');
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'content-type, x-namespace, authorization',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      sendJson(res, 200, { ok: true });
      return;
    }
    const operation = /\/(encode|decode)$/.exec(path)?.[1] as 'encode' | 'decode' | undefined;
    if (!operation) throw new HttpError(404, 'not found: POST /encode or /decode');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpError(405, `use POST for /${operation}`);
    }
    if (tokenDigest && !authorized(req.headers.authorization, tokenDigest)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    const payloads = parsePayloads(await readBody(req, maxBodyBytes));
    const result = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    sendJson(res, 200, { payloads: result.map(toJsonPayload) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8888, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests, which have the same length whatever was sent, in constant time. */
function authorized(header: string | undefined, tokenDigest: Buffer): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  return timingSafeEqual(sha256(match?.[1] ?? ''), tokenDigest) && match !== null;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !base64.test(value)) throw new HttpError(400, `${where} must be a base64 string`);
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

/** The payloads of a `{"payloads":[...]}` body, in the proto JSON form (bytes as base64). */
function parsePayloads(body: Buffer): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON: send {"payloads":[{"metadata":{...},"data":"<base64>"}]}');
  }
  const list = (parsed as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list)) throw new HttpError(400, 'body must be {"payloads":[...]}');
  return list.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) throw new HttpError(400, `payloads[${i}] must be an object`);
    const { metadata, data } = item as { metadata?: unknown; data?: unknown };
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
      throw new HttpError(400, `payloads[${i}].metadata must be an object of base64 strings`);
    }
    const decoded: Record<string, Uint8Array> = {};
    for (const [key, value] of Object.entries((metadata ?? {}) as Record<string, unknown>)) {
      decoded[key] = decodeBase64(value, `payloads[${i}].metadata["${key.slice(0, 64)}"]`);
    }
    return {
      metadata: decoded,
      data: data === undefined ? new Uint8Array() : decodeBase64(data, `payloads[${i}].data`),
    };
  });
}

function toJsonPayload(payload: Payload): { metadata: Record<string, string>; data: string } {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {}))
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
