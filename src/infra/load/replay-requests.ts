import type { RecordedRequest } from '../../domain/recorded-traffic';

/**
 * Recorded requests made ready for the load generator: headers that belong to the recorded connection
 * rather than to the request are dropped, requests it cannot replay are left out (and said so), and each
 * of the rest is encoded once into the bytes written on the wire, so that sending one costs no work.
 */

/**
 * Methods the load generator replays. HEAD stays out: its answer announces a body it does not send, which
 * the generator does not track per request; CONNECT and TRACE are not traffic to replay.
 */
const replayableMethods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Methods whose requests carry a body, so an empty one is sent as `content-length: 0`. */
const bodyMethods = new Set(['POST', 'PUT', 'PATCH']);

/** Set by the load generator for its own connection, or describing the recorded one: never replayed. */
const connectionHeaders = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'expect',
]);

export interface ReplayPlan {
  /** The requests in the recording's order, each as the bytes of an HTTP/1.1 request; the test cycles through them. */
  requests: Buffer[];
  /** Requests of the recording that can be replayed. */
  replayed: number;
  /** Why requests were left out, when some were, e.g. `2 of 120 recorded requests left out: HEAD (2) ...`. */
  skipped?: string;
}

/** The replayable requests of a recording, encoded for `host` (the endpoint's `host[:port]`). */
export function planReplay(recorded: readonly RecordedRequest[], host: string): ReplayPlan {
  const left = new Map<string, number>();
  const requests: Buffer[] = [];
  for (const r of recorded) {
    if (!replayableMethods.has(r.method)) left.set(r.method, (left.get(r.method) ?? 0) + 1);
    else requests.push(encodeRequest(r, host));
  }
  const skippedCount = recorded.length - requests.length;
  const skipped =
    skippedCount > 0
      ? `${skippedCount} of ${recorded.length} recorded requests left out: ${[...left].map(([m, n]) => `${m} (${n})`).join(', ')}; the load generator replays only ${[...replayableMethods].join(', ')}`
      : undefined;
  return { requests, replayed: requests.length, skipped };
}

/**
 * One request as sent: the recorded path (already printable ASCII), the endpoint's host, the recorded
 * headers but the connection's own, and the body in UTF-8 with its length. Keep-alive is HTTP/1.1's default.
 */
export function encodeRequest(r: RecordedRequest, host: string): Buffer {
  let head = `${r.method} ${r.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(r.headers))
    if (!connectionHeaders.has(name.toLowerCase())) head += `${name}: ${value}\r\n`;
  const body = r.body !== undefined && r.body !== '' ? Buffer.from(r.body, 'utf8') : undefined;
  if (body || bodyMethods.has(r.method)) head += `content-length: ${body?.length ?? 0}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'utf8'), body]) : Buffer.from(head, 'utf8');
}
