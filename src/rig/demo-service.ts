import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoRegion } from './demo-regions';
import { RequestMetrics } from './request-metrics';
import type { RolledOut } from './region-follower';
import type { VersionBehaviour } from './rig-config';

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
export function behaviourFor(versions: Record<string, VersionBehaviour>, version: string): VersionBehaviour | undefined {
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

/** Replaces characters of the given scripts with `?`, as a broken encoder would. */
export function mangleScripts(text: string, scripts: readonly string[]): string {
  if (scripts.length === 0) return text;
  const pattern = new RegExp(scripts.map((s) => `\\p{Script=${s}}`).join('|'), 'gu');
  return text.replace(pattern, '?');
}

const catalog: Record<string, { sku: string; name: string }[]> = {
  en: [{ sku: 'A-1', name: 'Coffee beans' }, { sku: 'B-2', name: 'Tea' }],
  ko: [{ sku: 'A-1', name: '원두 커피' }, { sku: 'B-2', name: '차' }],
  ar: [{ sku: 'A-1', name: 'حبوب القهوة' }, { sku: 'B-2', name: 'شاي' }],
  hi: [{ sku: 'A-1', name: 'कॉफ़ी बीन्स' }, { sku: 'B-2', name: 'चाय' }],
};

export interface DemoServiceOptions {
  region: DemoRegion;
  /** What the region's cluster runs now. */
  rolledOut: () => RolledOut | Promise<RolledOut>;
  /** Misbehaving versions from the rig config. */
  versions: Record<string, VersionBehaviour>;
  now?: () => number;
  random?: () => number;
}

/**
 * The demo application of one region. It answers as the version its cluster runs: with two
 * versions rolled out, requests split by ready pods, and a version the rig marks bad misbehaves.
 */
export function createDemoService(options: DemoServiceOptions): Server {
  const { region, versions } = options;
  const now = options.now ?? Date.now;
  const metrics = new RequestMetrics(region.name);
  let orders = 0;

  const send = (res: ServerResponse, status: number, body: unknown, version?: string) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...(version ? { 'x-meridian-version': version } : {}),
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, started: number) => {
    const url = new URL(req.url ?? '/', 'http://demo.local');
    const rolledOut = await options.rolledOut();
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.exposition());
      return;
    }
    if (url.pathname === '/version') {
      send(res, 200, {
        region: region.name,
        version: dominantVersion(rolledOut) ?? null,
        readyPods: rolledOut.readyPods,
        ...(rolledOut.error ? { clusterError: rolledOut.error } : {}),
      });
      return;
    }

    const version = pickVersion(rolledOut, options.random);
    const record = (status: number) => metrics.observe(version ?? 'none', status, now() - started);
    if (!version) {
      send(res, 503, { error: `no ready pods of ${region.deployment} in ${region.context}/${region.namespace}` });
      record(503);
      return;
    }
    const bad = activeMisbehaviour(behaviourFor(versions, version), rolledOut.readySince[version], now());
    if (bad && bad.latency > 0) await sleep(bad.latency);
    if (bad && bad.errorRate > 0 && (options.random ?? Math.random)() < bad.errorRate) {
      send(res, 500, { error: 'internal error', version, reason: bad.reason ?? 'marked bad in the rig config' }, version);
      record(500);
      return;
    }
    const text = (s: string) => mangleScripts(s, bad?.brokenScripts ?? []);
    const [status, body] = await route(req, url, text, () => ++orders);
    send(res, status, { ...body, version, region: region.name }, version);
    record(status);
  };

  return createServer((req, res) => {
    const started = now();
    handle(req, res, started).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, { error: err.message });
      else res.destroy();
    });
  });
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
