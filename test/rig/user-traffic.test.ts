import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { DnsAnswer, DnsQuestion, Nameserver } from '../../src/infra/traffic/dns-query';
import { userTrafficSchema } from '../../src/rig/rig-config';
import { rigTrafficFromRelease } from '../../src/rig/rig-traffic';
import { DnsUsers, StubResolver, type UserRoute, userPopulation, userRoutes } from '../../src/rig/user-routes';
import {
  rpsByTrafficLevel,
  syntheticUserHeader,
  UserTraffic,
  type UserTrafficState,
  userRequest,
  userTrafficRps,
  userTrafficRpsByRegion,
} from '../../src/rig/user-traffic';
import { prometheusUrl } from '../../src/rig/prometheus-server';
import { eventually } from '../support/eventually';
import { theRig } from '../support/rig';

type Traits = Parameters<typeof userRequest>[0]['traits'];
const traits = (t: Partial<Traits> = {}): Traits => ({
  traffic: 'low',
  scripts: ['Latin'],
  mobileShare: 0,
  apis: ['catalog', 'checkout'],
  ...t,
});
const region = (name: string, t: Partial<Traits> = {}, role: 'production' | 'staging' = 'production') => ({
  name,
  role,
  traits: traits(t),
});

/** A seeded generator, so that request mixes are the same on every run. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('userTrafficRps', () => {
  const config = userTrafficSchema.parse({});

  it('follows the traits: low 2, medium 4, high 8 requests per second, or the number given', () => {
    expect(rpsByTrafficLevel).toEqual({ low: 2, medium: 4, high: 8 });
    expect(userTrafficRps(region('a', { traffic: 'low' }), config)).toBe(2);
    expect(userTrafficRps(region('a', { traffic: 'medium' }), config)).toBe(4);
    expect(userTrafficRps(region('a', { traffic: 'high' }), config)).toBe(8);
    expect(userTrafficRps(region('a', { traffic: 12 }), config)).toBe(12);
  });

  it('scales, caps, takes a region override (0 included) and sends nothing when disabled', () => {
    expect(userTrafficRps(region('a', { traffic: 'high' }), userTrafficSchema.parse({ scale: 0.5 }))).toBe(4);
    expect(userTrafficRps(region('a', { traffic: 5000 }), config)).toBe(config.maxRps);
    expect(userTrafficRps(region('a', { traffic: 'high' }), userTrafficSchema.parse({ regions: { a: 0 } }))).toBe(0);
    expect(userTrafficRps(region('b', { traffic: 'high' }), userTrafficSchema.parse({ regions: { a: 0 } }))).toBe(8);
    expect(userTrafficRps(region('a', { traffic: 'high' }), userTrafficSchema.parse({ enabled: false }))).toBe(0);
  });

  it('gives every region its rate, and refuses a rate for a region the release does not have', () => {
    const regions = [region('a', { traffic: 'medium' }), region('b', { traffic: 'high' })];
    expect(userTrafficRpsByRegion(regions, userTrafficSchema.parse({ regions: { b: 0 } }))).toEqual({ a: 4, b: 0 });
    expect(() => userTrafficRpsByRegion(regions, userTrafficSchema.parse({ regions: { 'us-wset': 0 } }))).toThrow(
      'userTraffic.regions: "us-wset" is no region of the release; use one of a, b',
    );
  });

  it('sends no users to a staging region unless the rig config names it', () => {
    expect(userTrafficRps(region('staging', { traffic: 'low' }, 'staging'), config)).toBe(0);
    expect(
      userTrafficRps(
        region('staging', { traffic: 'low' }, 'staging'),
        userTrafficSchema.parse({ regions: { staging: 3 } }),
      ),
    ).toBe(3);
  });
});

describe('userRequest', () => {
  it('mixes catalog, search and orders, in the scripts of the region, from phones in mobileShare of cases', () => {
    const random = seeded(7);
    const requests = Array.from({ length: 2000 }, () =>
      userRequest({ traits: traits({ scripts: ['Hangul', 'Latin'], mobileShare: 0.6 }) }, random),
    );
    const share = (p: (r: (typeof requests)[number]) => boolean) => requests.filter(p).length / requests.length;
    expect(share((r) => r.method === 'POST' && r.path === '/orders')).toBeCloseTo(0.2, 1);
    expect(share((r) => r.path.startsWith('/search?q='))).toBeCloseTo(0.4, 1);
    expect(share((r) => r.path.startsWith('/catalog'))).toBeCloseTo(0.4, 1);
    expect(share((r) => /Mobile/.test(r.headers['user-agent']))).toBeCloseTo(0.6, 1);
    const searched = requests
      .filter((r) => r.path.startsWith('/search'))
      .map((r) => decodeURIComponent(r.path.slice('/search?q='.length)));
    expect(searched.some((q) => /\p{Script=Hangul}/u.test(q))).toBe(true);
    expect(searched.some((q) => /^[\p{Script=Latin} ]+$/u.test(q))).toBe(true);
    expect(requests.every((r) => r.headers[syntheticUserHeader] === '1')).toBe(true);
    const order = requests.find((r) => r.method === 'POST')!;
    expect(JSON.parse(order.body!)).toMatchObject({
      customer: expect.any(String),
      items: [{ sku: expect.stringMatching(/^[AB]-[12]$/) }],
    });
  });

  it('sends no orders to a region without checkout', () => {
    const random = seeded(3);
    const requests = Array.from({ length: 500 }, () => userRequest({ traits: traits({ apis: ['catalog'] }) }, random));
    expect(requests.some((r) => r.method === 'POST')).toBe(false);
  });
});

describe('UserTraffic', () => {
  const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  let baseUrl: string;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends requests at its rate until stopped, and none at rate 0', async () => {
    seen.length = 0;
    const traffic = new UserTraffic({ baseUrl, region: { traits: traits({ scripts: ['Arabic'] }) }, rps: 20 });
    traffic.start();
    await new Promise((r) => setTimeout(r, 1_000));
    traffic.setRps(0);
    const atZero = traffic.describe().sent;
    await new Promise((r) => setTimeout(r, 300));
    traffic.stop();
    // 20 per second with jitter of a quarter of the interval: 1 s holds about 20.
    expect(atZero).toBeGreaterThanOrEqual(15);
    expect(atZero).toBeLessThanOrEqual(25);
    expect(traffic.describe()).toMatchObject({ rps: 0, configuredRps: 20, sent: atZero, failed: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.length).toBe(atZero);
    expect(seen.some((s) => s.method === 'GET' && s.url.startsWith('/catalog?lang=ar'))).toBe(true);
    traffic.setRps(null);
    expect(traffic.describe().rps).toBe(20);
  });

  it('skips requests rather than piling them up on a service that does not answer', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const traffic = new UserTraffic({
      baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      region: { traits: traits() },
      rps: 50,
      maxInFlight: 5,
      timeoutMs: 2_000,
    });
    traffic.start();
    await new Promise((r) => setTimeout(r, 500));
    traffic.stop();
    expect(traffic.describe().sent).toBe(5);
    expect(traffic.describe().skipped).toBeGreaterThan(5);
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  });
});

const example = rigTrafficFromRelease(resolve(__dirname, '../../examples/release.yaml'))!;
const answer = (addresses: string[], ttl = 5): DnsAnswer => ({ rcode: 'NOERROR', addresses, texts: [], ttl });

describe('userPopulation', () => {
  it("gives each region of the example the client population it answers first: the canary's is columbus, Seoul's seoul", () => {
    const chosen = Object.fromEntries(Object.keys(example.regions).map((r) => [r, userPopulation(r, example)?.name]));
    expect(chosen).toEqual({
      'us-east-canary': 'columbus',
      'us-west': 'portland',
      'us-east': 'washington',
      'eu-west': 'london',
      'ap-northeast-2': 'seoul',
      'me-central': 'dubai',
      'sa-east': 'sao-paulo',
      'ap-south': 'mumbai',
    });
  });

  it('prefers a population the answers send to the region over a nearer one they send elsewhere (weight)', () => {
    const at = (latitude: number, longitude: number, weight = 1) => ({
      port: 18200,
      addresses: ['127.0.0.2'],
      latitude,
      longitude,
      weight,
    });
    const clients = [
      { name: 'between', subnet: '198.18.1.0/24', latitude: 0, longitude: 10 },
      { name: 'far-side', subnet: '198.18.2.0/24', latitude: 0, longitude: -15 },
    ];
    // "heavy" at weight 2 seems half as far: it answers "between" though "light" is nearer to it.
    const traffic = { regions: { light: at(0, 0), heavy: at(0, 20, 2) }, clients };
    expect(userPopulation('light', traffic)?.name).toBe('far-side');
    expect(userPopulation('heavy', traffic)?.name).toBe('between');
    // No population is answered with "light" first once "heavy" weighs 100: it gets its nearest.
    const heavier = { regions: { light: at(0, 0), heavy: at(0, 20, 100) }, clients };
    expect(userPopulation('light', heavier)?.name).toBe('between');
    expect(userPopulation('light', { regions: traffic.regions, clients: [] })).toBeUndefined();
    expect(userPopulation('nowhere', traffic)).toBeUndefined();
  });
});

describe('userRoutes', () => {
  const ns: Nameserver = { host: '127.0.0.1', port: 5354 };
  const regions = [
    { name: 'us-east-canary', role: 'production' as const },
    { name: 'ap-northeast-2', role: 'production' as const },
    { name: 'staging', role: 'staging' as const },
    { name: 'elsewhere', role: 'production' as const },
  ];

  it("routes the production regions behind the hostname through the rig's DNS server, with their population's subnet", () => {
    const routes = userRoutes(example, regions, { resolve: 'dns' }, ns);
    expect(Object.keys(routes)).toEqual(['us-east-canary', 'ap-northeast-2']);
    expect(routes['ap-northeast-2']).toMatchObject({
      hostname: 'shop.example.test',
      nameserver: ns,
      population: { name: 'seoul', subnet: '198.18.5.0/24' },
    });
    expect(routes['ap-northeast-2'].regions['ap-south']).toEqual({ port: 18200, addresses: ['127.0.8.1'] });
  });

  it('routes nobody when the rig config says direct, or the release has no traffic section', () => {
    expect(userRoutes(example, regions, { resolve: 'direct' }, ns)).toEqual({});
    expect(userRoutes(undefined, regions, { resolve: 'dns' }, ns)).toEqual({});
    expect(userRoutes({ ...example, clients: [] }, regions, { resolve: 'dns' }, ns)).toEqual({});
    expect(userTrafficSchema.parse({}).resolve).toBe('dns');
    expect(userTrafficSchema.safeParse({ resolve: 'hosts-file' }).success).toBe(false);
  });
});

describe('StubResolver', () => {
  function resolverWith(answers: (() => DnsAnswer | Promise<DnsAnswer>)[]) {
    const clock = { now: 1_000_000 };
    let asked = 0;
    const outcomes: string[] = [];
    const resolver = new StubResolver({
      lookup: async () => {
        const next = answers[Math.min(asked, answers.length - 1)];
        asked += 1;
        return next();
      },
      now: () => clock.now,
      staleMs: 30_000,
      retryMs: 1_000,
      negativeTtlMs: 5_000,
      onLookup: (o) => outcomes.push(o.kind),
    });
    return { resolver, clock, asked: () => asked, outcomes };
  }

  it('keeps an answer for its TTL, asks once for callers that arrive together, and again once it expired', async () => {
    const { resolver, clock, asked } = resolverWith([() => answer(['127.0.5.1'], 5), () => answer(['127.0.8.1'], 5)]);
    const together = await Promise.all([resolver.resolve(), resolver.resolve(), resolver.resolve()]);
    expect(together.every((r) => r.kind === 'answer' && r.addresses[0] === '127.0.5.1')).toBe(true);
    expect(asked()).toBe(1);
    clock.now += 4_999;
    expect(await resolver.resolve()).toEqual({ kind: 'answer', addresses: ['127.0.5.1'], stale: false });
    expect(asked()).toBe(1);
    clock.now += 1;
    expect(await resolver.resolve()).toEqual({ kind: 'answer', addresses: ['127.0.8.1'], stale: false });
    expect(asked()).toBe(2);
  });

  it('uses an answer of TTL 0 once, and asks for every use after', async () => {
    const { resolver, asked } = resolverWith([() => answer(['127.0.5.1'], 0)]);
    expect((await resolver.resolve()).kind).toBe('answer');
    expect((await resolver.resolve()).kind).toBe('answer');
    expect(asked()).toBe(2);
  });

  it('keeps the last answer a short while when lookups fail, asks again at most once a second, then gives up', async () => {
    const { resolver, clock, asked, outcomes } = resolverWith([
      () => answer(['127.0.5.1'], 5),
      () => Promise.reject(new Error('DNS server 127.0.0.1:5354 did not answer within 1000 ms')),
    ]);
    await resolver.resolve();
    clock.now += 5_000;
    expect(await resolver.resolve()).toEqual({ kind: 'answer', addresses: ['127.0.5.1'], stale: true });
    expect(await resolver.resolve()).toEqual({ kind: 'answer', addresses: ['127.0.5.1'], stale: true });
    expect(asked()).toBe(2); // the second use came within a second of the failed lookup
    clock.now += 1_000;
    await resolver.resolve();
    expect(asked()).toBe(3);
    clock.now += 29_000; // 30 s after the answer expired
    expect(await resolver.resolve()).toEqual({
      kind: 'unresolved',
      error: 'DNS server 127.0.0.1:5354 did not answer within 1000 ms',
    });
    expect(outcomes).toEqual(['answer', 'failed', 'failed', 'failed']);
  });

  it('counts SERVFAIL as a failure, and a name without addresses as not published (kept 5 s)', async () => {
    const servfail = resolverWith([() => ({ rcode: 'SERVFAIL', addresses: [], texts: [] })]);
    expect(await servfail.resolver.resolve()).toEqual({
      kind: 'unresolved',
      error: 'the DNS server answered SERVFAIL',
    });
    const missing = resolverWith([
      () => ({ rcode: 'NXDOMAIN', addresses: [], texts: [] }),
      () => answer(['127.0.5.1']),
    ]);
    expect(await missing.resolver.resolve()).toEqual({ kind: 'unpublished', rcode: 'NXDOMAIN' });
    missing.clock.now += 4_999;
    expect(await missing.resolver.resolve()).toEqual({ kind: 'unpublished', rcode: 'NXDOMAIN' });
    missing.clock.now += 1;
    expect(await missing.resolver.resolve()).toMatchObject({ kind: 'answer', addresses: ['127.0.5.1'] });
    expect(missing.outcomes).toEqual(['unpublished', 'answer']);
  });
});

describe('synthetic users that resolve the hostname', () => {
  // Two regions on loopback addresses of their own, each a service that records what it is sent.
  const seen: Record<string, { host?: string; path: string }[]> = { seoul: [], mumbai: [] };
  const servers: Server[] = [];
  const addresses = { seoul: '127.0.93.5', mumbai: '127.0.93.8' };
  const ports: Record<string, number> = {};
  const endpointSeen: string[] = [];
  let endpoint: string;

  beforeAll(async () => {
    for (const [name, host] of Object.entries(addresses)) {
      const server = createServer((req, res) => {
        seen[name].push({ host: req.headers.host, path: req.url ?? '' });
        req.resume();
        req.on('end', () => res.end('{}'));
      });
      await new Promise<void>((r) => server.listen(0, host, r));
      ports[name] = (server.address() as AddressInfo).port;
      servers.push(server);
    }
    const own = createServer((req, res) => {
      endpointSeen.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    servers.push(own);
    endpoint = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  const route = (): UserRoute => ({
    hostname: 'shop.example.test',
    nameserver: { host: '127.0.0.1', port: 5354 },
    population: { name: 'seoul', subnet: '198.18.5.0/24' },
    regions: {
      'ap-northeast-2': { port: ports.seoul, addresses: [addresses.seoul] },
      'ap-south': { port: ports.mumbai, addresses: [addresses.mumbai] },
    },
  });

  /** A DNS server in a variable: what it answers now, and the questions it was asked. */
  function fakeDns() {
    const state: { answer: () => Promise<DnsAnswer>; questions: DnsQuestion[] } = {
      answer: async () => answer([addresses.seoul], 5),
      questions: [],
    };
    const query = async (_server: Nameserver, question: DnsQuestion) => {
      state.questions.push(question);
      return state.answer();
    };
    return { state, query };
  }

  /** Lets the users send for a while; what each region got meanwhile. */
  async function during(traffic: UserTraffic, ms: number): Promise<Record<string, number>> {
    const before = traffic.describe().byRegion;
    await new Promise((r) => setTimeout(r, ms));
    const after = traffic.describe().byRegion;
    return Object.fromEntries(Object.entries(after).map(([r, c]) => [r, c.sent - (before[r]?.sent ?? 0)]));
  }

  it("send where their population's answer says, with the hostname as Host, keep it for its TTL, and fail over when it changes", async () => {
    const clock = { now: Date.parse('2026-12-06T08:00:00Z') };
    const dns = fakeDns();
    const users = new DnsUsers({ route: route(), query: dns.query, now: () => clock.now, resolvers: 4 });
    const traffic = new UserTraffic({
      baseUrl: endpoint,
      region: { name: 'ap-northeast-2', traits: traits({ scripts: ['Hangul'] }) },
      rps: 40,
      dns: users,
    });
    traffic.start();
    try {
      const first = await during(traffic, 500);
      expect(first['ap-northeast-2']).toBeGreaterThan(5);
      expect(first['ap-south'] ?? 0).toBe(0);
      expect(dns.state.questions[0]).toMatchObject({ name: 'shop.example.test', clientSubnet: '198.18.5.0/24' });
      expect(seen.seoul.every((r) => r.host === 'shop.example.test')).toBe(true);

      // Seoul drained: the server now answers Mumbai, but every user holds Seoul until its TTL ends.
      dns.state.answer = async () => answer([addresses.mumbai], 5);
      const cached = await during(traffic, 300);
      expect(cached['ap-south'] ?? 0).toBe(0);
      expect(dns.state.questions.length).toBeLessThanOrEqual(4);

      clock.now += 5_000;
      const failedOver = await during(traffic, 500);
      expect(failedOver['ap-northeast-2'] ?? 0).toBe(0);
      expect(failedOver['ap-south']).toBeGreaterThan(5);
      expect(seen.mumbai.length).toBeGreaterThan(5);
      expect(seen.mumbai.every((r) => r.host === 'shop.example.test')).toBe(true);

      const state = traffic.describe();
      expect(state).toMatchObject({ resolve: 'dns', failed: 0 });
      expect(state.sent).toBe(state.byRegion['ap-northeast-2'].sent + state.byRegion['ap-south'].sent);
      expect(state.dns).toMatchObject({
        hostname: 'shop.example.test',
        nameserver: '127.0.0.1:5354',
        population: { name: 'seoul', subnet: '198.18.5.0/24' },
        resolvers: 4,
        failures: 0,
        lastAnswer: {
          addresses: [addresses.mumbai],
          regions: ['ap-south'],
          ttl: 5,
          at: new Date(clock.now).toISOString(),
          expiresAt: new Date(clock.now + 5_000).toISOString(),
        },
        holding: { 'ap-south': 4 },
      });
      expect(state.dns!.lookups).toBe(dns.state.questions.length);
      console.log(
        `fake DNS failover: before ${JSON.stringify(first)}, cached for the TTL ${JSON.stringify(cached)}, after ${JSON.stringify(failedOver)}`,
      );
    } finally {
      traffic.stop();
    }
  });

  it('keep their last answer a while when the DNS server fails, counting the failures, then send nothing', async () => {
    const clock = { now: Date.parse('2026-12-06T08:00:00Z') };
    const dns = fakeDns();
    const users = new DnsUsers({ route: route(), query: dns.query, now: () => clock.now, resolvers: 2 });
    const traffic = new UserTraffic({ baseUrl: endpoint, region: { traits: traits() }, rps: 40, dns: users });
    traffic.start();
    try {
      await during(traffic, 300);
      dns.state.answer = () => Promise.reject(new Error('DNS server 127.0.0.1:5354 did not answer within 1000 ms'));
      clock.now += 6_000;
      const stale = await during(traffic, 300);
      expect(stale['ap-northeast-2']).toBeGreaterThan(3);
      const failing = traffic.describe().dns!;
      expect(failing.failures).toBeGreaterThanOrEqual(1);
      expect(failing.failures).toBeLessThanOrEqual(2); // one per resolver: the next try waits a second
      expect(failing.stale).toBeGreaterThan(3);
      expect(failing.lastFailure).toEqual({
        at: new Date(clock.now).toISOString(),
        error: 'DNS server 127.0.0.1:5354 did not answer within 1000 ms',
      });
      expect(failing.holding).toEqual({});

      clock.now += 30_000;
      const sentBefore = traffic.describe().sent;
      await during(traffic, 300);
      const gaveUp = traffic.describe();
      expect(gaveUp.sent).toBe(sentBefore);
      expect(gaveUp.dns!.unresolved).toBeGreaterThan(3);
    } finally {
      traffic.stop();
    }
  });

  it("call their region's endpoint while the hostname has no address (not published yet)", async () => {
    const dns = fakeDns();
    dns.state.answer = async () => ({ rcode: 'NXDOMAIN', addresses: [], texts: [] });
    const users = new DnsUsers({ route: route(), query: dns.query, resolvers: 2 });
    const traffic = new UserTraffic({
      baseUrl: endpoint,
      region: { name: 'ap-northeast-2', traits: traits() },
      rps: 40,
      dns: users,
    });
    endpointSeen.length = 0;
    traffic.start();
    await new Promise((r) => setTimeout(r, 300));
    traffic.stop();
    await new Promise((r) => setTimeout(r, 50));
    const state = traffic.describe();
    expect(state.byRegion).toEqual({ 'ap-northeast-2': { sent: state.sent, failed: 0 } });
    expect(state.dns!.unpublished).toBe(state.sent);
    expect(endpointSeen.length).toBe(state.sent);
    expect(dns.state.questions.length).toBe(2); // one per resolver, kept for 5 s
  });
});

describe("the rig's synthetic users", () => {
  const rig = theRig();
  const url = prometheusUrl(rig.config);

  async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  /** Requests a region's users sent so far, by the region they went to (its /_rig/user-traffic). */
  async function sentBy(region: { port: number }): Promise<Record<string, number>> {
    const state = (await (await fetch(`http://127.0.0.1:${region.port}/_rig/user-traffic`)).json()) as UserTrafficState;
    return Object.fromEntries(Object.entries(state.byRegion).map(([r, c]) => [r, c.sent]));
  }

  it('give every production region traffic that Prometheus counts, where its users are sent', async () => {
    const production = rig.regions.filter(
      (r) => r.role === 'production' && userTrafficRps(r, rig.config.userTraffic) > 0,
    );
    expect(production.length).toBeGreaterThan(0);
    // Users that resolve the hostname go where its answers send them: their own region while it runs the
    // app and is in service, else the next-closest one (a region without ready pods fails its health check).
    const before = Object.fromEntries(await Promise.all(production.map(async (r) => [r.name, await sentBy(r)])));
    const sentTo = async (r: (typeof production)[number]) =>
      Object.entries(await sentBy(r))
        .filter(([to, n]) => n > ((before[r.name] as Record<string, number>)[to] ?? 0))
        .map(([to]) => to);
    const counted = await eventually(
      async (saw) => {
        const result = await query('sum by (region) (increase(demo_http_requests_total[1m]))');
        const byRegion = Object.fromEntries(result.map((r) => [r.metric.region, Number(r.value[1])]));
        const destinations = Object.fromEntries(
          await Promise.all(production.map(async (r) => [r.name, await sentTo(r)])),
        );
        saw({ byRegion, destinations });
        const everywhere = production.every(
          (r) => destinations[r.name].length > 0 && destinations[r.name].every((to: string) => byRegion[to] > 0),
        );
        return everywhere ? { byRegion, destinations } : undefined;
      },
      "Prometheus to count every production region's users where they were sent",
      30_000,
      1_000,
    );
    const elsewhere = production.filter((r) => !counted.destinations[r.name].includes(r.name));
    if (elsewhere.length)
      console.log(
        `users sent away from their region (not running the app, or drained): ${elsewhere.map((r) => `${r.name} -> ${counted.destinations[r.name].join(', ')}`).join('; ')}`,
      );
    const usWest = rig.regions.find((r) => r.name === 'us-west')!;
    const usWestTo = counted.destinations[usWest.name][0];
    const [one] = await query(`sum(increase(demo_http_requests_total{region="${usWestTo}"}[1m]))`);
    expect(Number(one.value[1])).toBeGreaterThan(0);
    expect(counted.byRegion[usWestTo]).toBeGreaterThan(0);
  });

  it("can be sent to a region at run time through /_rig/user-traffic, and set back to the rig config's rate", async () => {
    // The staging region has no users by default: lending it some for a few seconds disturbs nobody's bake.
    const staging = rig.regions.find((r) => r.role === 'staging') ?? rig.regions[rig.regions.length - 1];
    const control = `http://127.0.0.1:${staging.port}/_rig/user-traffic`;
    const configured = userTrafficRps(staging, rig.config.userTraffic);
    // Requests counted over the last 5 s: increase() sees through a counter reset, whereas the counter's
    // own value may still be a restarted service's last one (Prometheus keeps it for 5 minutes).
    const countedNow = async () =>
      Number(
        (await query(`sum(increase(demo_http_requests_total{region="${staging.name}"}[5s])) or vector(0)`))[0].value[1],
      );
    const before = await countedNow();
    try {
      const set = (await (await fetch(control, { method: 'PUT', body: JSON.stringify({ rps: 10 }) })).json()) as {
        rps: number;
        sent: number;
      };
      expect(set).toMatchObject({ rps: 10, configuredRps: configured });
      await eventually(
        async () => ((await countedNow()) >= before + 10 ? true : undefined),
        `Prometheus to count the users sent to ${staging.name}`,
        20_000,
        500,
      );
    } finally {
      await fetch(control, { method: 'PUT', body: JSON.stringify({ rps: null }) });
    }
    expect(await (await fetch(control)).json()).toMatchObject({ rps: configured });
  });
});
