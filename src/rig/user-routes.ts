import { greatCircle, servingOrder, type SteeredRegion } from '../domain/traffic-policy';
import { type DnsAnswer, type Nameserver, queryDns } from '../infra/traffic/dns-query';
import type { DemoRegion } from './demo-regions';
import type { UserTrafficConfig } from './rig-config';
import type { GeoClient, RigTraffic } from './rig-traffic';

/**
 * How a region's synthetic users reach a service through the release's hostname, as people behind one
 * client network would: they ask the rig's DNS server with their network's subnet (EDNS Client Subnet),
 * keep the answer for its TTL, and call the address it names. What the demo services process reads at
 * start (plain data: it travels in demo-services.json).
 */
export interface UserRoute {
  /** The hostname users resolve (spec.traffic.hostname), sent as their requests' Host header. */
  hostname: string;
  /** The rig's DNS server. */
  nameserver: Nameserver;
  /** The client population the users belong to (one of spec.traffic.clients). */
  population: { name: string; subnet: string };
  /** Where each region behind the hostname answers: its addresses and its health check's port. */
  regions: Record<string, { port: number; addresses: string[] }>;
}

/**
 * The client population a region's users belong to: the nearest of spec.traffic.clients that the
 * answers send to this region first while every region is in service (the policy's own order:
 * distance divided by weight), so that in steady state a region's users reach that region, and a drain
 * or a failure sends them where the DNS server sends that population. A region that is no client's
 * first choice (a light weight next to a heavy neighbour) gets its nearest population, whose users then
 * go wherever the answers send them. Undefined without clients.
 */
export function userPopulation(
  region: string,
  traffic: Pick<RigTraffic, 'regions' | 'clients'>,
): GeoClient | undefined {
  const place = traffic.regions[region];
  if (!place || traffic.clients.length === 0) return undefined;
  // servingOrder reads names, places and weights only.
  const steered: SteeredRegion[] = Object.entries(traffic.regions).map(([name, r]) => ({
    name,
    addresses: r.addresses,
    latitude: r.latitude,
    longitude: r.longitude,
    weight: r.weight,
    healthUrl: () => '',
  }));
  const nearest = traffic.clients
    .map((client, index) => ({ client, index, distance: greatCircle(client, place) }))
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .map((c) => c.client);
  return nearest.find((client) => servingOrder(steered, {}, client)[0]?.region === region) ?? nearest[0];
}

/**
 * The route of each region's users that resolve the hostname: production regions behind the
 * hostname, when the release has spec.traffic with clients and the rig config resolves by DNS
 * (userTraffic.resolve). Regions left out call their own endpoint.
 */
export function userRoutes(
  traffic: RigTraffic | undefined,
  regions: readonly Pick<DemoRegion, 'name' | 'role'>[],
  config: Pick<UserTrafficConfig, 'resolve'>,
  nameserver: Nameserver,
): Record<string, UserRoute> {
  if (!traffic || config.resolve !== 'dns') return {};
  const behind = Object.fromEntries(
    Object.entries(traffic.regions).map(([name, r]) => [name, { port: r.port, addresses: [...r.addresses] }]),
  );
  const out: Record<string, UserRoute> = {};
  for (const region of regions) {
    if (region.role === 'staging' || !Object.hasOwn(traffic.regions, region.name)) continue;
    const population = userPopulation(region.name, traffic);
    if (!population) continue;
    out[region.name] = {
      hostname: traffic.hostname,
      nameserver,
      population: { name: population.name, subnet: population.subnet },
      regions: behind,
    };
  }
  return out;
}

/** What one stub resolver has for the hostname now. */
export type Resolution =
  /** Addresses to call; `stale` when the last lookup failed and an expired answer is kept a while. */
  | { kind: 'answer'; addresses: string[]; stale: boolean }
  /** The name has no address (NXDOMAIN, or no record of the type): nothing published it yet. */
  | { kind: 'unpublished'; rcode: string }
  /** No answer to use: lookups fail and no recent answer is left. */
  | { kind: 'unresolved'; error: string };

/** One lookup, as the resolvers report it. */
export type LookupOutcome =
  | { kind: 'answer'; addresses: string[]; ttl: number; at: number }
  | { kind: 'unpublished'; rcode: string; at: number }
  | { kind: 'failed'; error: string; at: number };

export interface StubResolverOptions {
  /** Asks the DNS server once. */
  lookup: () => Promise<DnsAnswer>;
  now?: () => number;
  /** How long after its TTL an answer is still used while lookups fail (serve-stale); default 30 s. */
  staleMs?: number;
  /** No new lookup sooner than this after a failed one; default 1 s. */
  retryMs?: number;
  /** How long "no such name" is kept before asking again; default 5 s. */
  negativeTtlMs?: number;
  /** Told of every lookup. */
  onLookup?: (outcome: LookupOutcome) => void;
}

/**
 * What a stub resolver on a user's machine does with one name: asks only when its answer has expired
 * (the answer's TTL), one question at a time, and, when a lookup fails, keeps using the last answer for
 * a short while instead of failing the user at once.
 */
export class StubResolver {
  private answer?: { addresses: string[]; expiresAt: number };
  private negative?: { rcode: string; expiresAt: number };
  private lastError = 'not asked yet';
  private nextLookupAt = 0;
  private pending?: Promise<Resolution | undefined>;
  private readonly now: () => number;

  constructor(private readonly options: StubResolverOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The addresses to call now, looking the name up first if what is held has expired. */
  async resolve(): Promise<Resolution> {
    const held = this.fresh();
    if (held) return held;
    if (this.now() >= this.nextLookupAt) {
      this.pending ??= this.lookUp().finally(() => {
        this.pending = undefined;
      });
      const looked = await this.pending;
      if (looked) return looked;
    }
    const answer = this.answer;
    if (answer && this.now() < answer.expiresAt + (this.options.staleMs ?? 30_000))
      return { kind: 'answer', addresses: answer.addresses, stale: true };
    return { kind: 'unresolved', error: this.lastError };
  }

  /** What is held and not expired. */
  private fresh(): Resolution | undefined {
    const now = this.now();
    if (this.answer && now < this.answer.expiresAt)
      return { kind: 'answer', addresses: this.answer.addresses, stale: false };
    if (this.negative && now < this.negative.expiresAt) return { kind: 'unpublished', rcode: this.negative.rcode };
    return undefined;
  }

  /** One question; its result for the callers waiting on it, or undefined when it failed. */
  private async lookUp(): Promise<Resolution | undefined> {
    const at = this.now();
    let answer: DnsAnswer;
    try {
      answer = await this.options.lookup();
    } catch (err) {
      return this.failed(at, (err as Error).message);
    }
    if (answer.rcode === 'NOERROR' && answer.addresses.length > 0) {
      const ttl = answer.ttl ?? 0;
      this.answer = { addresses: answer.addresses, expiresAt: at + ttl * 1000 };
      this.negative = undefined;
      this.options.onLookup?.({ kind: 'answer', addresses: answer.addresses, ttl, at });
      return { kind: 'answer', addresses: answer.addresses, stale: false };
    }
    if (answer.rcode === 'NXDOMAIN' || answer.rcode === 'NOERROR') {
      this.negative = { rcode: answer.rcode, expiresAt: at + (this.options.negativeTtlMs ?? 5_000) };
      this.answer = undefined;
      this.options.onLookup?.({ kind: 'unpublished', rcode: answer.rcode, at });
      return { kind: 'unpublished', rcode: answer.rcode };
    }
    return this.failed(at, `the DNS server answered ${answer.rcode}`);
  }

  private failed(at: number, error: string): undefined {
    this.lastError = error;
    this.nextLookupAt = at + (this.options.retryMs ?? 1_000);
    this.options.onLookup?.({ kind: 'failed', error, at });
    return undefined;
  }
}

/** Where one request of the users goes. */
export type UserTarget =
  /** To an address the hostname answered, on the answering region's port, with `Host: <hostname>`. */
  | { kind: 'address'; host: string; port: number; hostname: string; region: string }
  /** To the region's own endpoint: the hostname has no address yet. */
  | { kind: 'endpoint' }
  /** Nowhere: no answer to use. */
  | { kind: 'none' };

/** What the users' DNS side shows at `/_rig/user-traffic`. */
export interface UserDnsState {
  hostname: string;
  /** The DNS server asked, host:port. */
  nameserver: string;
  /** The client population the users belong to, and the subnet they ask with. */
  population: { name: string; subnet: string };
  /** Users with a resolver of their own (each keeps its own answer for its TTL). */
  resolvers: number;
  /** Lookups made (each a question to the DNS server). */
  lookups: number;
  /** Lookups that failed (no answer in time, or an error code). */
  failures: number;
  /** The last failure, if any: when (ISO time) and why. */
  lastFailure?: { at: string; error: string };
  /** Requests sent to the region's own endpoint because the hostname had no address (not published yet). */
  unpublished: number;
  /** Requests not sent: no answer to use (lookups failing, the last answer too old). */
  unresolved: number;
  /** Requests that used an expired answer while lookups failed. */
  stale: number;
  /** The last answer: its addresses, the regions they belong to, TTL, when it came and when it expires (ISO times). */
  lastAnswer?: { addresses: string[]; regions: string[]; ttl: number; at: string; expiresAt: string };
  /** How many of the users' resolvers hold an answer naming each region now (unexpired). */
  holding: Record<string, number>;
}

export interface DnsUsersOptions {
  route: UserRoute;
  /** Users with a resolver of their own; a request comes from one of them at random. Default 10. */
  resolvers?: number;
  /** Asks the DNS server (default: queryDns); for tests. */
  query?: typeof queryDns;
  now?: () => number;
  staleMs?: number;
  retryMs?: number;
  negativeTtlMs?: number;
}

/**
 * A client population's users: several of them, each with a stub resolver of its own, so that a
 * region ramping back at 10% gets about a tenth of them rather than all or none per TTL. Each request
 * comes from one user and goes where that user's answer says.
 */
export class DnsUsers {
  private readonly resolvers: StubResolver[];
  private readonly held: ({ region: string; expiresAt: number } | undefined)[];
  private readonly regionOf = new Map<string, string>();
  private readonly now: () => number;
  private readonly counts = { lookups: 0, failures: 0, unpublished: 0, unresolved: 0, stale: 0 };
  private lastFailure?: { at: number; error: string };
  private lastAnswer?: { addresses: string[]; ttl: number; at: number };

  constructor(private readonly options: DnsUsersOptions) {
    this.now = options.now ?? Date.now;
    for (const [name, r] of Object.entries(options.route.regions))
      for (const address of r.addresses) this.regionOf.set(address, name);
    const query = options.query ?? queryDns;
    const { route } = options;
    const count = Math.max(1, options.resolvers ?? 10);
    this.held = Array.from({ length: count }, () => undefined);
    this.resolvers = Array.from(
      { length: count },
      (_, i) =>
        new StubResolver({
          lookup: () =>
            query(route.nameserver, {
              name: route.hostname,
              clientSubnet: route.population.subnet,
              timeoutMs: 1_000,
            }),
          now: this.now,
          staleMs: options.staleMs,
          retryMs: options.retryMs,
          negativeTtlMs: options.negativeTtlMs,
          onLookup: (outcome) => this.onLookup(i, outcome),
        }),
    );
  }

  /** The region an answered address belongs to (the address itself when no region of the spec has it). */
  regionOfAddress(address: string): string {
    return this.regionOf.get(address) ?? address;
  }

  /** Where the next request goes: one user's answer, one of its addresses at random. */
  async target(random: () => number): Promise<UserTarget> {
    const user = Math.min(this.resolvers.length - 1, Math.floor(random() * this.resolvers.length));
    const resolution = await this.resolvers[user].resolve();
    if (resolution.kind === 'unpublished') {
      this.counts.unpublished += 1;
      return { kind: 'endpoint' };
    }
    if (resolution.kind === 'unresolved') {
      this.counts.unresolved += 1;
      return { kind: 'none' };
    }
    if (resolution.stale) this.counts.stale += 1;
    const { addresses } = resolution;
    const host = addresses[Math.min(addresses.length - 1, Math.floor(random() * addresses.length))];
    const region = this.regionOfAddress(host);
    const port = this.options.route.regions[region]?.port ?? this.anyPort();
    return { kind: 'address', host, port, hostname: this.options.route.hostname, region };
  }

  describe(): UserDnsState {
    const { route } = this.options;
    const now = this.now();
    const holding: Record<string, number> = {};
    for (const h of this.held) if (h && h.expiresAt > now) holding[h.region] = (holding[h.region] ?? 0) + 1;
    const iso = (ms: number) => new Date(ms).toISOString();
    const last = this.lastAnswer;
    return {
      hostname: route.hostname,
      nameserver: `${route.nameserver.host}:${route.nameserver.port}`,
      population: route.population,
      resolvers: this.resolvers.length,
      ...this.counts,
      ...(this.lastFailure ? { lastFailure: { at: iso(this.lastFailure.at), error: this.lastFailure.error } } : {}),
      ...(last
        ? {
            lastAnswer: {
              addresses: last.addresses,
              regions: [...new Set(last.addresses.map((a) => this.regionOfAddress(a)))],
              ttl: last.ttl,
              at: iso(last.at),
              expiresAt: iso(last.at + last.ttl * 1000),
            },
          }
        : {}),
      holding,
    };
  }

  private onLookup(user: number, outcome: LookupOutcome): void {
    this.counts.lookups += 1;
    if (outcome.kind === 'failed') {
      this.counts.failures += 1;
      this.lastFailure = { at: outcome.at, error: outcome.error };
      return;
    }
    if (outcome.kind === 'unpublished') {
      this.held[user] = undefined;
      return;
    }
    this.lastAnswer = { addresses: outcome.addresses, ttl: outcome.ttl, at: outcome.at };
    // One region per answer: the answers name one region's addresses.
    this.held[user] = {
      region: this.regionOfAddress(outcome.addresses[0]),
      expiresAt: outcome.at + outcome.ttl * 1000,
    };
  }

  /** An address no region of the spec has: the port most regions use. */
  private anyPort(): number {
    return Object.values(this.options.route.regions)[0]?.port ?? 80;
  }
}
