import { resolve } from 'node:path';
import { InvalidInputError } from '../../src/domain/errors';
import { trafficSchema } from '../../src/domain/traffic-spec';
import { rigConfigSchema } from '../../src/rig/rig-config';
import { isLoopback, providerMismatches, rigTraffic, rigTrafficFromRelease } from '../../src/rig/rig-traffic';

/** A traffic section as the spec's schema reads it. */
const section = (regions: Record<string, object>) =>
  trafficSchema.parse({
    hostname: 'shop.example.test',
    zone: 'example.test.',
    ttl: '5s',
    provider: { powerdns: { api: 'http://127.0.0.1:8281', nameservers: ['127.0.0.1:5354'], apiKey: { env: 'K' } } },
    healthCheck: { path: '/healthz', port: 18200, interval: '1s', timeout: '1s' },
    regions,
    clients: [
      { name: 'nyc', subnet: '198.18.1.0/24', location: { latitude: 40.7, longitude: -74 } },
      { name: 'korea', subnet: '198.18.2.0/24', location: { country: 'KR' } },
    ],
  });
const at = (latitude: number, longitude: number) => ({ latitude, longitude });

describe("the rig's view of spec.traffic", () => {
  it('refuses a Route 53 section: the rig answers the hostname with its own PowerDNS', () => {
    const onRoute53 = trafficSchema.parse({
      hostname: 'shop.example.test',
      zone: 'example.test',
      ttl: '5s',
      provider: { route53: { hostedZoneId: 'Z0123456789ABCDEFGHIJ' } },
      healthCheck: { path: '/healthz', port: 18200, interval: '10s' },
      regions: { 'us-east': { addresses: ['127.0.1.1'], location: at(39, -77.5) } },
    });
    expect(() => rigTraffic(onRoute53)).toThrow(InvalidInputError);
    expect(() => rigTraffic(onRoute53)).toThrow(
      /^spec\.traffic\.provider\.route53: the local rig answers the hostname with its own PowerDNS, not Route 53: give provider powerdns/,
    );
  });

  it('reads the zone (without its dot), the located clients, and each region on its health check port', () => {
    const traffic = rigTraffic(
      section({
        'us-east': { addresses: ['127.0.1.1', '::1'], location: at(39, -77.5) },
        'eu-west': { addresses: ['127.0.2.1'], location: at(53.3, -6.3), healthCheck: { port: 18201 } },
      }),
    );
    expect(traffic).toMatchObject({
      zone: 'example.test',
      regions: {
        'us-east': { port: 18200, addresses: ['127.0.1.1', '::1'] },
        'eu-west': { port: 18201, addresses: ['127.0.2.1'] },
      },
      provider: { api: 'http://127.0.0.1:8281', nameservers: [{ host: '127.0.0.1', port: 5354 }] },
    });
    expect(traffic.clients[0]).toEqual({ name: 'nyc', subnet: '198.18.1.0/24', latitude: 40.7, longitude: -74 });
    // A country stands for a point in it (resolveLocation of the spec).
    expect(traffic.clients[1]).toMatchObject({ name: 'korea', subnet: '198.18.2.0/24' });
    expect(traffic.clients[1].latitude).toBeGreaterThan(33);
    expect(traffic.clients[1].latitude).toBeLessThan(39);
  });

  it('refuses addresses off this machine, naming the field and a loopback one to give', () => {
    const run = () => rigTraffic(section({ 'us-east': { addresses: ['10.0.0.5'], location: at(39, -77.5) } }));
    expect(run).toThrow(InvalidInputError);
    expect(run).toThrow(
      `the release's spec.traffic cannot run on the local rig: spec.traffic.regions.us-east.addresses[0]: the local rig serves loopback addresses only (127.0.0.0/8 or ::1), got "10.0.0.5": give one such as 127.0.1.1`,
    );
  });

  it('lists every address off this machine', () => {
    const run = () =>
      rigTraffic(
        section({
          a: { addresses: ['127.0.1.1', '192.0.2.1'], location: at(0, 0) },
          b: { addresses: ['2001:db8::1'], location: at(0, 0) },
        }),
      );
    expect(run).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^spec\.traffic\.regions\.a\.addresses\[1\]: .*got "192\.0\.2\.1"/),
          expect.stringMatching(/^spec\.traffic\.regions\.b\.addresses\[0\]: .*got "2001:db8::1"/),
        ],
      }),
    );
  });

  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.0.3.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1'])
      expect(isLoopback(a)).toBe(true);
    for (const a of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:127.0.0.1', 'localhost', '', '127.0.0'])
      expect(isLoopback(a)).toBe(false);
  });

  it("says where the release's provider points elsewhere than the rig's PowerDNS", () => {
    const traffic = rigTraffic(section({ a: { addresses: ['127.0.1.1'], location: at(0, 0) } }));
    const rig = (apiPort: number, port: number) => ({
      api: `http://127.0.0.1:${apiPort}`,
      dns: { host: '127.0.0.1', port },
    });
    expect(providerMismatches(traffic, rig(8281, 5354))).toEqual([]);
    expect(providerMismatches(traffic, rig(9281, 6354))).toEqual([
      "spec.traffic.provider.powerdns.api is http://127.0.0.1:8281, but the rig's PowerDNS API is http://127.0.0.1:9281 (dns.apiPort)",
      "spec.traffic.provider.powerdns.nameservers does not list the rig's PowerDNS, 127.0.0.1:6354 (dns.port)",
    ]);
  });

  it("reads the example release's traffic section: loopback addresses, located clients", () => {
    const traffic = rigTrafficFromRelease(resolve(__dirname, '..', '..', 'examples', 'release.yaml'));
    expect(traffic?.zone).toBe('example.test');
    expect(traffic?.clients).toContainEqual({
      name: 'new-york',
      subnet: '198.18.1.0/24',
      latitude: 40.7,
      longitude: -74,
    });
    for (const region of Object.values(traffic?.regions ?? {}))
      expect(region.addresses.every((a) => isLoopback(a))).toBe(true);
  });
});

describe("the rig config's DNS ports", () => {
  const parse = (dns?: object) => rigConfigSchema.safeParse({ clusters: [{ context: 'c' }], release: 'r.yaml', dns });

  it('default to 5354 (DNS) and 8281 (API)', () => {
    expect(parse().data?.dns).toEqual({ port: 5354, apiPort: 8281 });
  });

  it('are ports, and two different ones', () => {
    expect(parse({ port: 0 }).success).toBe(false);
    expect(parse({ port: 65536 }).success).toBe(false);
    expect(parse({ apiPort: 1.5 }).success).toBe(false);
    expect(parse({ port: 5300, other: 1 }).success).toBe(false);
    expect(parse({ port: 8281 }).error?.issues[0]).toMatchObject({
      path: ['dns', 'apiPort'],
      message: expect.stringContaining('must differ'),
    });
  });
});
