import type { Server } from 'node:http';
import { demoServiceAddresses, demoServiceListener, listenOn } from '../../src/rig/demo-service';
import { demoTraffic, regionTraffic, serviceHealth } from '../../src/rig/demo-services';
import { freePort } from '../support/registry';

/**
 * A region's demo service also answers on the region's traffic addresses (spec.traffic), on the one
 * port of the health check: where the rig's DNS server sends the hostname's users and checks health.
 */
describe("the demo service on a region's traffic addresses", () => {
  const versions = { '1.0.0': 2 };
  let region: {
    name: string;
    context: string;
    namespace: string;
    deployment: string;
    port: number;
    role: 'production';
    traits: { traffic: 'low'; scripts: string[]; mobileShare: number; apis: string[] };
  };
  let traffic: { port: number; addresses: string[] };
  let servers: Server[] = [];

  beforeAll(async () => {
    region = {
      name: 'us-east',
      context: 'c',
      namespace: 'n',
      deployment: 'shop-api',
      port: await freePort(),
      role: 'production',
      traits: { traffic: 'low', scripts: ['Latin'], mobileShare: 0, apis: [] },
    };
    traffic = { port: await freePort(), addresses: ['127.0.1.7', '127.0.1.8'] };
    const listener = demoServiceListener({
      region,
      rolledOut: () => ({ readyPods: versions, readySince: {} }),
      versions: {},
    });
    servers = await listenOn(listener, demoServiceAddresses(region, traffic));
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  it('listens on the endpoint, then on each traffic address at the common port', () => {
    expect(demoServiceAddresses(region, traffic)).toEqual([
      { host: '127.0.0.1', port: region.port },
      { host: '127.0.1.7', port: traffic.port },
      { host: '127.0.1.8', port: traffic.port },
    ]);
    expect(servers).toHaveLength(3);
  });

  it('answers /healthz and names its region on a traffic address, as on its endpoint', async () => {
    const at = `http://127.0.1.7:${traffic.port}`;
    const health = await fetch(`${at}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-meridian-version')).toBe('1.0.0');
    expect(await health.json()).toMatchObject({ status: 'ok', region: 'us-east', version: '1.0.0' });
    expect(await (await fetch(`${at}/version`)).json()).toMatchObject({ region: 'us-east', version: '1.0.0' });
  });

  it('is one service on every address: orders numbered in one sequence, requests counted in one place', async () => {
    const order = (base: string) =>
      fetch(`${base}/orders`, { method: 'POST', body: JSON.stringify({ customer: 'a', items: [] }) }).then(
        (r) => r.json() as Promise<{ id: string }>,
      );
    const first = await order(`http://127.0.1.8:${traffic.port}`);
    const second = await order(`http://127.0.0.1:${region.port}`);
    expect(Number(second.id.replace('ORD-', ''))).toBe(Number(first.id.replace('ORD-', '')) + 1);
    const metrics = await (await fetch(`http://127.0.0.1:${region.port}/metrics`)).text();
    expect(metrics).toMatch(/demo_http_requests_total\{[^}]*region="us-east"[^}]*\} [1-9]/);
  });

  it('is healthy in `dev status` only while every traffic address answers', async () => {
    expect(await serviceHealth(region, traffic)).toEqual({
      region: 'us-east',
      port: region.port,
      up: true,
      version: '1.0.0',
      traffic: [
        { address: `127.0.1.7:${traffic.port}`, up: true },
        { address: `127.0.1.8:${traffic.port}`, up: true },
      ],
    });
    const missing = { ...traffic, addresses: [...traffic.addresses, '127.0.1.9'] };
    const health = await serviceHealth(region, missing);
    expect(health.up).toBe(false);
    expect(health.traffic?.[2]).toEqual({ address: `127.0.1.9:${traffic.port}`, up: false });
  });

  it('fails to start on an address another program holds, naming it, and leaves nothing listening', async () => {
    const listener = demoServiceListener({
      region,
      rolledOut: () => ({ readyPods: {}, readySince: {} }),
      versions: {},
    });
    const spare = await freePort();
    await expect(
      listenOn(listener, [
        { host: '127.0.1.10', port: spare },
        { host: '127.0.1.7', port: traffic.port },
      ]),
    ).rejects.toThrow(`cannot listen on 127.0.1.7:${traffic.port}: EADDRINUSE`);
    // The first address was let go again.
    const again = await listenOn(listener, [{ host: '127.0.1.10', port: spare }]);
    await new Promise((r) => again[0].close(r));
  });

  it('serves traffic addresses only for a release with a traffic section', () => {
    const provider = { api: 'http://127.0.0.1:8281', nameservers: [] };
    expect(demoTraffic(undefined)).toBeUndefined();
    const hostname = 'shop.example.test';
    expect(demoTraffic({ hostname, zone: 'example.test', clients: [], regions: {}, provider })).toBeUndefined();
    const both = demoTraffic({
      hostname,
      zone: 'example.test',
      clients: [],
      regions: { a: { port: 18200, addresses: ['127.0.1.1'], latitude: 40, longitude: -83, weight: 1 } },
      provider,
    });
    expect(regionTraffic(both, 'a')).toEqual({ port: 18200, addresses: ['127.0.1.1'] });
    expect(regionTraffic(both, 'b')).toBeUndefined();
    expect(regionTraffic(both, 'constructor')).toBeUndefined();
  });
});
