import type { Request } from 'autocannon';
import type { RecordedRequest } from '../../domain/recorded-traffic';

/**
 * Recorded requests made ready for autocannon: headers that belong to the recorded connection rather than
 * to the request are dropped, requests autocannon cannot replay are left out (and said so), and the rest
 * is shared among the connections so that together they go through the recording in order.
 */

/**
 * Methods the load generator replays. autocannon would send HEAD, but its response parser does not know
 * that the answer to HEAD has no body and waits for one until the timeout; CONNECT and TRACE are not
 * traffic to replay.
 */
const replayableMethods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

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
  /** Per connection, the requests it sends, cycling. */
  perConnection: Request[][];
  /** Requests of the recording that can be replayed. */
  replayed: number;
  /** Why requests were left out, when some were, e.g. `2 of 120 recorded requests left out: HEAD (2) ...`. */
  skipped?: string;
}

/**
 * Connection i sends requests i, i+c, i+2c, ... of the recording (c connections): when the connections
 * keep pace, round k sends requests kc to kc+c-1, so the endpoint sees the recording in order. With fewer
 * requests than connections, each connection starts at its own place and cycles through all of them.
 */
export function planReplay(recorded: readonly RecordedRequest[], connections: number): ReplayPlan {
  const left = new Map<string, number>();
  const requests: Request[] = [];
  for (const r of recorded) {
    if (!replayableMethods.has(r.method)) left.set(r.method, (left.get(r.method) ?? 0) + 1);
    else requests.push(toAutocannon(r));
  }
  const skippedCount = recorded.length - requests.length;
  const skipped =
    skippedCount > 0
      ? `${skippedCount} of ${recorded.length} recorded requests left out: ${[...left].map(([m, n]) => `${m} (${n})`).join(', ')}; the load generator replays only ${[...replayableMethods].join(', ')}`
      : undefined;
  const n = requests.length;
  let perConnection: Request[][];
  if (n === 0) perConnection = [];
  else if (n >= connections) {
    perConnection = Array.from({ length: connections }, () => []);
    requests.forEach((r, j) => perConnection[j % connections].push(r));
  } else
    perConnection = Array.from({ length: connections }, (_, i) =>
      [...requests.slice(i % n), ...requests.slice(0, i % n)].map(copy),
    );
  return { perConnection, replayed: n, skipped };
}

function toAutocannon(r: RecordedRequest): Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers))
    if (!connectionHeaders.has(name.toLowerCase())) headers[name] = value;
  return {
    method: r.method as Request['method'],
    path: r.path,
    headers,
    ...(r.body !== undefined && r.body !== '' ? { body: r.body } : {}),
  };
}

/** autocannon writes into the requests it is given (their encoded form, Content-Length): one copy per connection. */
function copy(r: Request): Request {
  return { ...r, headers: { ...r.headers } };
}
