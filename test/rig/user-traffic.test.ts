import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userTrafficSchema } from '../../src/rig/rig-config';
import {
  rpsByTrafficLevel,
  syntheticUserHeader,
  UserTraffic,
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

  it('give every production region traffic that Prometheus counts', async () => {
    const production = rig.regions.filter(
      (r) => r.role === 'production' && userTrafficRps(r, rig.config.userTraffic) > 0,
    );
    expect(production.length).toBeGreaterThan(0);
    const counted = await eventually(
      async () => {
        const result = await query('sum by (region) (increase(demo_http_requests_total[1m]))');
        const byRegion = Object.fromEntries(result.map((r) => [r.metric.region, Number(r.value[1])]));
        return production.every((r) => byRegion[r.name] > 0) ? byRegion : undefined;
      },
      'Prometheus to count requests in every production region',
      30_000,
      1_000,
    );
    const usWest = rig.regions.find((r) => r.name === 'us-west')!;
    const [one] = await query(`sum(increase(demo_http_requests_total{region="${usWest.name}"}[1m]))`);
    expect(Number(one.value[1])).toBeGreaterThan(0);
    expect(counted[usWest.name]).toBeGreaterThan(0);
  });

  it("can be sent to a region at run time through /_rig/user-traffic, and set back to the rig config's rate", async () => {
    // The staging region has no users by default: lending it some for a few seconds disturbs nobody's bake.
    const staging = rig.regions.find((r) => r.role === 'staging') ?? rig.regions[rig.regions.length - 1];
    const control = `http://127.0.0.1:${staging.port}/_rig/user-traffic`;
    const configured = userTrafficRps(staging, rig.config.userTraffic);
    const countedNow = async () =>
      Number((await query(`sum(demo_http_requests_total{region="${staging.name}"}) or vector(0)`))[0].value[1]);
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
