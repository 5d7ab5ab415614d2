import { request as httpRequest } from 'node:http';
import { InvalidInputError } from '../domain/errors';
import type { DemoRegion } from './demo-regions';
import type { UserTrafficConfig } from './rig-config';
import type { DnsUsers, UserDnsState } from './user-routes';

/** Requests per second of synthetic users for each traffic level of a region's traits. */
export const rpsByTrafficLevel = { low: 2, medium: 4, high: 8 } as const;

/**
 * The rate of a region's synthetic users: its override in the rig config, else its traffic trait (a
 * level or a number) times the scale; never above `maxRps`. 0 while synthetic users are disabled, and
 * for a staging region without an override (staging serves no users).
 */
export function userTrafficRps(
  region: Pick<DemoRegion, 'name' | 'role' | 'traits'>,
  config: UserTrafficConfig,
): number {
  if (!config.enabled) return 0;
  const override = config.regions[region.name];
  if (override !== undefined) return Math.min(override, config.maxRps);
  if (region.role === 'staging') return 0;
  const { traffic } = region.traits;
  const base = typeof traffic === 'number' ? traffic : rpsByTrafficLevel[traffic];
  return Math.min(base * config.scale, config.maxRps);
}

/** The rate of every region's synthetic users, by region name; a rate set for a region the release lacks is an error. */
export function userTrafficRpsByRegion(
  regions: readonly Pick<DemoRegion, 'name' | 'role' | 'traits'>[],
  config: UserTrafficConfig,
): Record<string, number> {
  const names = new Set(regions.map((r) => r.name));
  const unknown = Object.keys(config.regions).filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `userTraffic.regions: ${unknown.map((n) => JSON.stringify(n)).join(', ')} is no region of the release; use one of ${[...names].join(', ')}`,
    );
  }
  return Object.fromEntries(regions.map((r) => [r.name, userTrafficRps(r, config)]));
}

/** One request a synthetic user sends. */
export interface UserRequest {
  method: 'GET' | 'POST';
  /** Path and query, e.g. `/search?q=...`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What users type and are called, per Unicode script; scripts not listed fall back to Latin. */
const wordsByScript: Record<string, { queries: string[]; customers: string[]; lang: string }> = {
  Latin: {
    queries: ['coffee', 'green tea', 'grinder', 'espresso cups'],
    customers: ['Alex Martin', 'Maria Souza', 'Sam Lee'],
    lang: 'en',
  },
  Hangul: { queries: ['원두', '결제', '녹차', '커피 그라인더'], customers: ['김민지', '이서준'], lang: 'ko' },
  Arabic: { queries: ['قهوة', 'شاي أخضر', 'مطحنة'], customers: ['محمد', 'فاطمة'], lang: 'ar' },
  Devanagari: { queries: ['कॉफ़ी', 'चाय', 'ग्राइंडर'], customers: ['प्रिया', 'अर्जुन'], lang: 'hi' },
  Han: { queries: ['咖啡', '绿茶'], customers: ['王芳'], lang: 'zh' },
  Cyrillic: { queries: ['кофе', 'чай'], customers: ['Анна'], lang: 'ru' },
};

/**
 * Header on every synthetic user request. The service counts these requests like any other; it only
 * answers them from its last periodic look at the cluster instead of looking again (see demo-service.ts).
 */
export const syntheticUserHeader = 'x-meridian-synthetic-user';

const userAgents = {
  mobile: 'Mozilla/5.0 (Linux; Android 14) MeridianSyntheticUser/1 Mobile',
  desktop: 'Mozilla/5.0 (X11; Linux x86_64) MeridianSyntheticUser/1',
};

/**
 * One request of a region's users: browsing the catalog, searching, or ordering (when the region uses
 * checkout), with input in one of the region's scripts, from a phone in `mobileShare` of cases.
 */
export function userRequest(region: Pick<DemoRegion, 'traits'>, random: () => number = Math.random): UserRequest {
  const pick = <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(random() * items.length))];
  const scripts = region.traits.scripts.length > 0 ? region.traits.scripts : ['Latin'];
  const words = wordsByScript[pick(scripts)] ?? wordsByScript.Latin;
  const headers: Record<string, string> = {
    'user-agent': random() < region.traits.mobileShare ? userAgents.mobile : userAgents.desktop,
    'accept-language': words.lang,
    [syntheticUserHeader]: '1',
  };
  const orders = region.traits.apis.length === 0 || region.traits.apis.includes('checkout');
  const roll = random();
  if (orders && roll < 0.2) {
    const body = JSON.stringify({
      customer: pick(words.customers),
      items: [{ sku: pick(['A-1', 'B-2']), qty: 1 + Math.floor(random() * 3) }],
    });
    return { method: 'POST', path: '/orders', headers: { ...headers, 'content-type': 'application/json' }, body };
  }
  if (roll < 0.6) return { method: 'GET', path: `/search?q=${encodeURIComponent(pick(words.queries))}`, headers };
  return { method: 'GET', path: `/catalog?lang=${words.lang}`, headers };
}

/** What `/_rig/user-traffic` shows and changes. */
export interface UserTrafficControl {
  /** Sets the rate (requests per second); null restores the configured rate. */
  setRps(rps: number | null): void;
  describe(): UserTrafficState;
}

export interface UserTrafficState {
  /** The rate in force, requests per second. */
  rps: number;
  /** The rate the rig config gives the region. */
  configuredRps: number;
  /** Requests sent since the process started. */
  sent: number;
  /** Requests without an answer (connection error or timeout). */
  failed: number;
  /** Requests not sent because too many were still waiting for an answer. */
  skipped: number;
  /** How the users find the service: `direct` to the region's own endpoint, `dns` through the hostname. */
  resolve: 'direct' | 'dns';
  /** Requests sent and failed, by the region they went to (an answered address no region has: the address). */
  byRegion: Record<string, { sent: number; failed: number }>;
  /** With `dns`: the population, its lookups and answers. */
  dns?: UserDnsState;
}

export interface UserTrafficOptions {
  /** Base URL of the region's service, e.g. http://127.0.0.1:18102. */
  baseUrl: string;
  /** The region whose users these are (its name counts the requests sent to its endpoint). */
  region: Pick<DemoRegion, 'traits'> & { name?: string };
  rps: number;
  /** Users that resolve the release's hostname instead of calling `baseUrl` (see user-routes.ts). */
  dns?: DnsUsers;
  /** Requests waiting for an answer at most; beyond it a request is skipped, so a slow service is not flooded. */
  maxInFlight?: number;
  timeoutMs?: number;
  random?: () => number;
}

/** Where one request goes: host, port, and the Host header to send. */
interface Destination {
  region: string;
  host: string;
  port: number;
  /** The Host header (the hostname, when the users resolved it). */
  hostHeader: string;
}

/**
 * A region's synthetic users: requests at a steady rate (spaced evenly, with jitter), each sent without
 * waiting for the previous answer, as independent users would. Requests go over HTTP to the region's
 * service, or, with `dns`, to whichever region the release's hostname names for their population, so
 * they are counted in the metrics of the service that answers them like any other request.
 */
export class UserTraffic implements UserTrafficControl {
  private rps: number;
  private timer?: NodeJS.Timeout;
  private running = false;
  private inFlight = 0;
  private readonly state = { sent: 0, failed: 0, skipped: 0 };
  private readonly byRegion: Record<string, { sent: number; failed: number }> = {};
  private readonly random: () => number;
  private readonly endpoint: Destination;

  constructor(private readonly options: UserTrafficOptions) {
    this.rps = options.rps;
    this.random = options.random ?? Math.random;
    const base = new URL(options.baseUrl);
    this.endpoint = {
      region: options.region.name ?? base.host,
      host: base.hostname.replace(/^\[|\]$/g, ''),
      port: Number(base.port || 80),
      hostHeader: base.host,
    };
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  setRps(rps: number | null): void {
    this.rps = rps ?? this.options.rps;
    if (this.running) {
      if (this.timer) clearTimeout(this.timer);
      this.schedule();
    }
  }

  describe(): UserTrafficState {
    return {
      rps: this.rps,
      configuredRps: this.options.rps,
      ...this.state,
      resolve: this.options.dns ? 'dns' : 'direct',
      byRegion: Object.fromEntries(Object.entries(this.byRegion).map(([r, c]) => [r, { ...c }])),
      ...(this.options.dns ? { dns: this.options.dns.describe() } : {}),
    };
  }

  private schedule(): void {
    if (!this.running || this.rps <= 0) return;
    const meanMs = 1000 / this.rps;
    const delay = meanMs * (0.75 + this.random() * 0.5);
    this.timer = setTimeout(() => {
      this.send();
      this.schedule();
    }, delay);
  }

  private send(): void {
    if (this.inFlight >= (this.options.maxInFlight ?? 64)) {
      this.state.skipped += 1;
      return;
    }
    const request = userRequest(this.options.region, this.random);
    this.inFlight += 1;
    void this.destination()
      .then(async (to) => {
        // No answer to use (lookups failing): the user cannot reach the service; the DNS state counts it.
        if (!to) return;
        this.state.sent += 1;
        const counts = (this.byRegion[to.region] ??= { sent: 0, failed: 0 });
        counts.sent += 1;
        await sendRequest(to, request, this.options.timeoutMs ?? 10_000).catch(() => {
          this.state.failed += 1;
          counts.failed += 1;
        });
      })
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  /** Where the next request goes: the region's endpoint, or where its user's answer for the hostname says. */
  private async destination(): Promise<Destination | undefined> {
    if (!this.options.dns) return this.endpoint;
    const target = await this.options.dns.target(this.random);
    if (target.kind === 'none') return undefined;
    if (target.kind === 'endpoint') return this.endpoint;
    return { region: target.region, host: target.host, port: target.port, hostHeader: target.hostname };
  }
}

/**
 * One request over HTTP/1.1 with its own Host header (fetch always sends the URL's host), settled when
 * the whole answer has arrived; a connection error or the timeout rejects.
 */
function sendRequest(to: Destination, request: UserRequest, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: to.host,
        port: to.port,
        method: request.method,
        path: request.path,
        headers: {
          ...request.headers,
          host: to.hostHeader,
          ...(request.body === undefined ? {} : { 'content-length': Buffer.byteLength(request.body) }),
        },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve());
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}
