import { InvalidInputError } from '../domain/errors';
import type { DemoRegion } from './demo-regions';
import type { UserTrafficConfig } from './rig-config';

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
}

export interface UserTrafficOptions {
  /** Base URL of the region's service, e.g. http://127.0.0.1:18102. */
  baseUrl: string;
  region: Pick<DemoRegion, 'traits'>;
  rps: number;
  /** Requests waiting for an answer at most; beyond it a request is skipped, so a slow service is not flooded. */
  maxInFlight?: number;
  timeoutMs?: number;
  random?: () => number;
}

/**
 * A region's synthetic users: requests at a steady rate (spaced evenly, with jitter), each sent without
 * waiting for the previous answer, as independent users would. Requests go over HTTP to the region's
 * service, so they are counted in its metrics like any other request.
 */
export class UserTraffic implements UserTrafficControl {
  private rps: number;
  private timer?: NodeJS.Timeout;
  private running = false;
  private inFlight = 0;
  private readonly state = { sent: 0, failed: 0, skipped: 0 };
  private readonly random: () => number;

  constructor(private readonly options: UserTrafficOptions) {
    this.rps = options.rps;
    this.random = options.random ?? Math.random;
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
    return { rps: this.rps, configuredRps: this.options.rps, ...this.state };
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
    this.state.sent += 1;
    fetch(`${this.options.baseUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    })
      .then((res) => res.arrayBuffer())
      .catch(() => {
        this.state.failed += 1;
      })
      .finally(() => {
        this.inFlight -= 1;
      });
  }
}
