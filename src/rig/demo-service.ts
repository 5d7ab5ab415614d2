import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoRegion } from './demo-regions';
import { processMetricsExposition } from './process-metrics';
import { misbehaviourExposition, RequestMetrics } from './request-metrics';
import type { RolledOut } from './region-follower';
import type { VersionBehaviour } from './rig-config';
import type { UserTrafficControl } from './user-traffic';

/** Picks the version that serves one request, in proportion to each version's ready pods. */
export function pickVersion(rolledOut: RolledOut, random: () => number = Math.random): string | undefined {
  const entries = Object.entries(rolledOut.readyPods).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return undefined;
  let ticket = random() * total;
  for (const [version, n] of entries) {
    if (ticket < n) return version;
    ticket -= n;
  }
  return entries[entries.length - 1][0];
}

/** The version reported as "the" version: the one with the most ready pods (ties: highest name). */
export function dominantVersion(rolledOut: RolledOut): string | undefined {
  const entries = Object.entries(rolledOut.readyPods).filter(([, n]) => n > 0);
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1));
  return entries[0]?.[0];
}

/**
 * The behaviour the rig config sets for a version: its own entry, or the entry it extends with a
 * pre-release or build suffix (`2.4.3-mojibake.7` and `2.4.3-mojibake+ci.7` behave as `2.4.3-mojibake`),
 * so that every run of a test can release a bad version under a version of its own.
 */
export function behaviourFor(
  versions: Record<string, VersionBehaviour>,
  version: string,
): VersionBehaviour | undefined {
  if (versions[version]) return versions[version];
  const base = Object.keys(versions)
    .filter((key) => version.startsWith(`${key}.`) || version.startsWith(`${key}+`))
    .sort((a, b) => b.length - a.length)[0];
  return base ? versions[base] : undefined;
}

/** The misbehaviour in force for a version now, if any (`after` delays it from the version's start). */
export function activeMisbehaviour(
  behaviour: VersionBehaviour | undefined,
  readySince: number | undefined,
  now: number,
): VersionBehaviour | undefined {
  if (!behaviour) return undefined;
  if (behaviour.after > 0 && (readySince === undefined || now - readySince < behaviour.after)) return undefined;
  return behaviour;
}

/**
 * Since when a version misbehaves (ms since the epoch): from when it became ready, plus `after`. Undefined
 * for a version whose behaviour changes nothing, or whose start is unknown.
 */
export function misbehavingSince(
  behaviour: VersionBehaviour | undefined,
  readySince: number | undefined,
): number | undefined {
  if (!behaviour || readySince === undefined) return undefined;
  const effect = behaviour.errorRate > 0 || behaviour.latency > 0 || behaviour.brokenScripts.length > 0;
  return effect ? readySince + behaviour.after : undefined;
}

/** The rolled-out versions that misbehave now, each with since when (ms since the epoch). */
export function misbehavingVersions(
  rolledOut: RolledOut,
  versions: Record<string, VersionBehaviour>,
  now: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [version, pods] of Object.entries(rolledOut.readyPods)) {
    const since = misbehavingSince(behaviourFor(versions, version), rolledOut.readySince[version]);
    if (pods > 0 && since !== undefined && since <= now) out[version] = since;
  }
  return out;
}

/** Replaces characters of the given scripts with `?`, as a broken encoder would. */
export function mangleScripts(text: string, scripts: readonly string[]): string {
  if (scripts.length === 0) return text;
  const pattern = new RegExp(scripts.map((s) => `\\p{Script=${s}}`).join('|'), 'gu');
  return text.replace(pattern, '?');
}

const catalog: Record<string, { sku: string; name: string }[]> = {
  en: [
    { sku: 'A-1', name: 'Coffee beans' },
    { sku: 'B-2', name: 'Tea' },
  ],
  ko: [
    { sku: 'A-1', name: '원두 커피' },
    { sku: 'B-2', name: '차' },
  ],
  ar: [
    { sku: 'A-1', name: 'حبوب القهوة' },
    { sku: 'B-2', name: 'شاي' },
  ],
  hi: [
    { sku: 'A-1', name: 'कॉफ़ी बीन्स' },
    { sku: 'B-2', name: 'चाय' },
  ],
};

export interface DemoServiceOptions {
  region: DemoRegion;
  /** What the region's cluster runs now, from memory (the region's follower watches the cluster). */
  rolledOut: () => RolledOut;
  /** Misbehaving versions from the rig config. */
  versions: Record<string, VersionBehaviour>;
  /** The region's synthetic users, which `/_rig/user-traffic` reads and adjusts. */
  userTraffic?: UserTrafficControl;
  now?: () => number;
  random?: () => number;
}

/**
 * The demo application of one region. It answers as the version its cluster runs: with two
 * versions rolled out, requests split by ready pods, and a version the rig marks bad misbehaves.
 */
export function createDemoService(options: DemoServiceOptions): Server {
  return createServer(demoServiceListener(options));
}

/**
 * The demo application of one region as a request listener, so that one service (its metrics, its
 * orders, its behaviour) can answer on several addresses: the region's endpoint and its traffic
 * addresses, where the rig's DNS server sends the hostname's users and checks the region's health.
 */
export function demoServiceListener(options: DemoServiceOptions): RequestListener {
  const { region, versions } = options;
  const now = options.now ?? Date.now;
  const metrics = new RequestMetrics(region.name);
  let orders = 0;

  const send = (res: ServerResponse, status: number, body: unknown, version?: string, misbehavingSinceMs?: number) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...(version ? { 'x-meridian-version': version } : {}),
      ...(misbehavingSinceMs !== undefined
        ? { 'x-meridian-misbehaving-since': new Date(misbehavingSinceMs).toISOString() }
        : {}),
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, started: number) => {
    const url = new URL(req.url ?? '/', 'http://demo.local');
    const rolledOut = options.rolledOut();
    // The rig's own endpoints (metrics, version, synthetic users) are not requests of users: not counted.
    if (url.pathname === '/metrics') {
      const misbehaving = misbehavingVersions(rolledOut, versions, now());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        metrics.exposition() + misbehaviourExposition(region.name, misbehaving) + processMetricsExposition(region.name),
      );
      return;
    }
    if (url.pathname === '/version') {
      const version = dominantVersion(rolledOut);
      const misbehaving = misbehavingVersions(rolledOut, versions, now());
      const iso = (ms: number) => new Date(ms).toISOString();
      send(res, 200, {
        region: region.name,
        version: version ?? null,
        readyPods: rolledOut.readyPods,
        // Since when the reported version misbehaves; absent while it behaves.
        ...(version && misbehaving[version] !== undefined ? { misbehavingSince: iso(misbehaving[version]) } : {}),
        misbehaving: Object.fromEntries(Object.entries(misbehaving).map(([v, since]) => [v, iso(since)])),
        ...(rolledOut.error ? { clusterError: rolledOut.error } : {}),
      });
      return;
    }
    if (url.pathname === '/_rig/user-traffic') {
      await userTrafficControl(req, res, options.userTraffic, region.name, send);
      return;
    }

    const version = pickVersion(rolledOut, options.random);
    const record = (status: number) => metrics.observe(version ?? 'none', status, now() - started);
    if (!version) {
      send(res, 503, { error: `no ready pods of ${region.deployment} in ${region.context}/${region.namespace}` });
      record(503);
      return;
    }
    const behaviour = behaviourFor(versions, version);
    const bad = activeMisbehaviour(behaviour, rolledOut.readySince[version], now());
    const since = bad ? misbehavingSince(behaviour, rolledOut.readySince[version]) : undefined;
    if (bad && bad.latency > 0) await sleep(bad.latency);
    if (bad && bad.errorRate > 0 && (options.random ?? Math.random)() < bad.errorRate) {
      send(
        res,
        500,
        { error: 'internal error', version, reason: bad.reason ?? 'marked bad in the rig config' },
        version,
        since,
      );
      record(500);
      return;
    }
    const text = (s: string) => mangleScripts(s, bad?.brokenScripts ?? []);
    const [status, body] = await route(req, url, text, () => ++orders);
    send(res, status, { ...body, version, region: region.name }, version, since);
    record(status);
  };

  return (req, res) => {
    const started = now();
    handle(req, res, started).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, { error: err.message });
      else res.destroy();
    });
  };
}

/** Where a region's demo service listens: its endpoint on 127.0.0.1, and each of its traffic addresses. */
export function demoServiceAddresses(
  region: DemoRegion,
  traffic?: { port: number; addresses: readonly string[] },
): { host: string; port: number }[] {
  return [
    { host: '127.0.0.1', port: region.port },
    ...(traffic ? traffic.addresses.map((host) => ({ host, port: traffic.port })) : []),
  ];
}

/** `host:port` as a URL writes it (`[::1]:18200`). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Serves `listener` on each address; an address that cannot be listened on closes the others and fails. */
export async function listenOn(
  listener: RequestListener,
  addresses: readonly { host: string; port: number }[],
): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    for (const { host, port } of addresses) {
      const server = createServer(listener);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(new Error(`cannot listen on ${hostPort(host, port)}: ${err.code ?? err.message}`)),
        );
        server.listen(port, host, () => resolve());
      });
      servers.push(server);
    }
    return servers;
  } catch (err) {
    servers.forEach((s) => s.close());
    throw err;
  }
}

/** `GET /_rig/user-traffic` tells the synthetic users' rate; `PUT` with `{"rps": n}` sets it, `{"rps": null}` restores the configured one. */
async function userTrafficControl(
  req: IncomingMessage,
  res: ServerResponse,
  control: UserTrafficControl | undefined,
  region: string,
  send: (res: ServerResponse, status: number, body: unknown) => void,
): Promise<void> {
  if (!control) {
    send(res, 404, { error: `no synthetic users run for ${region}` });
    return;
  }
  if (req.method === 'PUT' || req.method === 'POST') {
    let rps: unknown;
    try {
      rps = (JSON.parse(await readBody(req)) as { rps?: unknown }).rps;
    } catch {
      rps = undefined;
    }
    if (rps !== null && !(typeof rps === 'number' && Number.isFinite(rps) && rps >= 0)) {
      send(res, 400, { error: 'expected {"rps": a number >= 0} or {"rps": null} for the configured rate' });
      return;
    }
    control.setRps(rps);
  } else if (req.method !== 'GET') {
    send(res, 405, { error: 'use GET, or PUT {"rps": n}' });
    return;
  }
  send(res, 200, { region, ...control.describe() });
}

async function route(
  req: IncomingMessage,
  url: URL,
  text: (s: string) => string,
  nextOrderId: () => number,
): Promise<[number, Record<string, unknown>]> {
  const method = req.method ?? 'GET';
  switch (`${method} ${url.pathname}`) {
    case 'GET /healthz':
      return [200, { status: 'ok' }];
    case 'GET /search': {
      const query = text(url.searchParams.get('q') ?? '');
      return [200, { query, results: query ? [{ sku: 'A-1', match: query }] : [] }];
    }
    case 'GET /catalog': {
      const lang = (url.searchParams.get('lang') ?? req.headers['accept-language'] ?? 'en').slice(0, 2);
      const items = (catalog[lang] ?? catalog.en).map((i) => ({ ...i, name: text(i.name) }));
      return [200, { lang, items }];
    }
    case 'POST /orders': {
      const raw = await readBody(req);
      let order: { customer?: unknown; items?: unknown };
      try {
        order = JSON.parse(raw) as typeof order;
      } catch {
        return [400, { error: 'body must be JSON: {"customer": "...", "items": [...]}' }];
      }
      if (typeof order.customer !== 'string' || !Array.isArray(order.items)) {
        return [400, { error: 'expected {"customer": string, "items": [...]}' }];
      }
      return [201, { id: `ORD-${nextOrderId()}`, customer: text(order.customer), items: order.items }];
    }
    default:
      return [404, { error: `no route for ${method} ${url.pathname}` }];
  }
}

async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
