import { InvalidInputError } from '../../src/domain/errors';
import { rigConfigSchema } from '../../src/rig/rig-config';
import { isLoopback, rigTraffic, type TrafficSection } from '../../src/rig/rig-traffic';

const section = (addresses: Record<string, string[]>): TrafficSection => ({
  zone: 'example.test.',
  clients: [{ name: 'nyc', subnet: '198.18.1.0/24', location: { latitude: 40.7, longitude: -74 } }],
  regions: Object.fromEntries(Object.entries(addresses).map(([name, a]) => [name, { addresses: a }])),
  healthCheck: { port: 18200 },
});

describe("the rig's view of spec.traffic", () => {
  it('reads the zone (without its dot), the located clients, and each region on the common port', () => {
    expect(
      rigTraffic(section({ 'us-east': ['127.0.1.1', '::1'], 'eu-west': ['127.0.2.1'] }), ['us-east', 'eu-west']),
    ).toEqual({
      zone: 'example.test',
      clients: [{ name: 'nyc', subnet: '198.18.1.0/24', latitude: 40.7, longitude: -74 }],
      port: 18200,
      addresses: { 'us-east': ['127.0.1.1', '::1'], 'eu-west': ['127.0.2.1'] },
    });
  });

  it('refuses addresses off this machine, naming the field and a loopback one to use', () => {
    const run = () => rigTraffic(section({ 'us-east': ['10.0.0.5'] }), ['us-east']);
    expect(run).toThrow(InvalidInputError);
    expect(run).toThrow(
      'spec.traffic.regions.us-east.addresses[0]: the local rig serves loopback addresses only (127.0.0.0/8 or ::1), got "10.0.0.5": use one such as 127.0.1.1',
    );
  });

  it('lists every problem: non-loopback, shared addresses, unknown regions', () => {
    try {
      rigTraffic(section({ a: ['127.0.1.1', '192.0.2.1'], b: ['127.0.1.1'], c: ['2001:db8::1'] }), ['a', 'b']);
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as InvalidInputError).problems).toEqual([
        expect.stringMatching(/^spec\.traffic\.regions\.a\.addresses\[1\]: .*got "192\.0\.2\.1"/),
        'spec.traffic.regions.b.addresses[0]: 127.0.1.1 is already an address of a',
        'spec.traffic.regions.c: no region of that name in spec.regions',
        expect.stringMatching(/^spec\.traffic\.regions\.c\.addresses\[0\]: .*got "2001:db8::1"/),
      ]);
    }
  });

  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.0.3.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1'])
      expect(isLoopback(a)).toBe(true);
    for (const a of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:127.0.0.1', 'localhost', '', '127.0.0'])
      expect(isLoopback(a)).toBe(false);
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
