import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorFromFailure, RegistryError, type RequestContext } from './registry-error';

/**
 * HTTP for registry requests: a deadline for the answer, the caller's abort signal, and failures
 * turned into RegistryErrors. An abort by the caller is passed on as it is (not a RegistryError), so
 * a cancelled copy reads as cancelled rather than as a broken registry.
 */

/** How to make one request. */
export interface FetchOptions {
  context: RequestContext;
  /** The caller's signal; aborting it ends the request and any body still streaming. */
  signal?: AbortSignal;
  /** Longest to wait for the answer; undefined waits as long as it takes. */
  timeoutMs?: number;
}

/** An answer read whole: small documents (manifests, tokens, errors). */
export interface BufferedAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The URL after redirects. */
  url: string;
}

/** A request without a streamed body. */
export interface RegistryRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Fetches and reads the whole answer within the deadline. */
export async function fetchBuffered(
  url: string,
  init: RegistryRequest,
  options: FetchOptions,
): Promise<BufferedAnswer> {
  return withDeadline(url, options, async (signal) => {
    if (init.method === 'HEAD') {
      const answer = await headKeepingTheConnection(url, init.headers, signal);
      if (answer) return answer;
    }
    const res = await fetch(url, { ...init, signal });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, url: res.url || url };
  });
}

/**
 * Fetches and returns once the status and headers are in; the deadline does not cover the body, which
 * may be a large blob still streaming long after. The caller's signal still does.
 */
export async function fetchStreaming(url: string, init: RegistryRequest, options: FetchOptions): Promise<Response> {
  return withDeadline(url, options, (signal) => fetch(url, { ...init, signal }));
}

/** Statuses after which a HEAD is sent again with fetch, which follows them. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A HEAD with node:http(s), whose agents keep the connection for the next request: undici's fetch
 * closes the connection after every HEAD (against servers that send a body anyway, nodejs/undici#258),
 * and a copy sends one per blob per target, each then paying for a new connection on both ends.
 * Undefined for a redirect, which fetch then follows. A HEAD sent on a kept connection that the
 * registry had just closed (ECONNRESET on a reused socket) is sent once more, as Node's documentation
 * advises for idempotent requests.
 */
function headKeepingTheConnection(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<BufferedAnswer | undefined> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const attempt = (again: boolean) =>
    new Promise<BufferedAnswer | undefined>((resolve, reject) => {
      const req = send(target, { method: 'HEAD', headers, signal }, (res) => {
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(
            REDIRECTS.has(status) ? undefined : { status, headers: headersOf(res.headers), body: Buffer.alloc(0), url },
          );
        });
        res.resume();
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (again && req.reusedSocket && err.code === 'ECONNRESET') resolve(attempt(false));
        else reject(err);
      });
      req.end();
    });
  return attempt(true);
}

/** How long an upload may go without sending or receiving a byte. */
const uploadIdleMs = 60_000;

/**
 * Sends a streamed body (a blob upload) with node:http(s) rather than fetch: undici's fetch keeps every
 * byte of a streamed request body in memory until the request ends (nodejs/undici#4058), which for a
 * layer is the whole layer. No deadline: a large blob takes as long as it takes; the caller's signal
 * still ends it. If the registry answers before taking the whole body, the rest is not sent.
 */
export async function sendStreamedBody(
  url: string,
  init: { method: string; headers: Record<string, string>; body: Readable | AsyncIterable<Uint8Array> },
  options: Omit<FetchOptions, 'timeoutMs'>,
): Promise<BufferedAnswer> {
  return withDeadline(url, options, (signal) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<BufferedAnswer>((resolve, reject) => {
      const req = send(target, { method: init.method, headers: init.headers, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: headersOf(res.headers), body: Buffer.concat(chunks), url });
          if (!req.writableFinished) req.destroy(); // answered early: stop sending
        });
      });
      req.on('error', reject);
      // No deadline, but no stall either: a minute without a byte either way ends it (retryable).
      req.setTimeout(uploadIdleMs, () =>
        req.destroy(Object.assign(new Error(`no progress for ${uploadIdleMs / 1000}s`), { code: 'ETIMEDOUT' })),
      );
      const body = init.body instanceof Readable ? init.body : Readable.from(init.body, { objectMode: false });
      pipeline(body, req).catch(reject);
    });
  });
}

function headersOf(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

async function withDeadline<T>(
  url: string,
  options: FetchOptions,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal: callerSignal, timeoutMs, context } = options;
  callerSignal?.throwIfAborted();
  const deadline = new AbortController();
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => deadline.abort(new DOMException('deadline passed', 'TimeoutError')), timeoutMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, deadline.signal]) : deadline.signal;
  try {
    return await work(signal);
  } catch (err) {
    if (callerSignal?.aborted) throw callerSignal.reason ?? err;
    if (err instanceof RegistryError) throw err;
    throw errorFromFailure(deadline.signal.aborted ? deadline.signal.reason : err, url, context);
  } finally {
    clearTimeout(timer);
  }
}
