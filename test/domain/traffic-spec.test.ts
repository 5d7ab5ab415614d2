import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import countries from 'world-countries';
import fc from 'fast-check';
import { type Document, parseDocument } from 'yaml';
import { InvalidInputError } from '../../src/domain/errors';
import { continentCentroids, countryLocation } from '../../src/domain/country-locations';
import { releaseSpecSchema } from '../../src/domain/release-spec';
import { resolveLocation, route53LatencyRegions, trafficSchema } from '../../src/domain/traffic-spec';
import { formatZodIssues } from '../../src/domain/zod-issues';
import { loadRelease } from '../../src/infra/release-files/release-file';

const examplesDir = join(__dirname, '../../examples');
const exampleText = readFileSync(join(examplesDir, 'release.yaml'), 'utf8');
const production = [
  'us-east-canary',
  'us-west',
  'us-east',
  'eu-west',
  'ap-northeast-2',
  'me-central',
  'sa-east',
  'ap-south',
];

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The example spec, changed by `mutate`, written beside a copy of the example's files; returns the file. */
function writeSpec(mutate: (doc: Document) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-traffic-'));
  tempDirs.push(dir);
  cpSync(examplesDir, dir, { recursive: true });
  const doc = parseDocument(exampleText);
  mutate(doc);
  const file = join(dir, 'release.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

/** The problems loadRelease reports for the example changed by `mutate` (it must refuse it). */
function problemsOf(mutate: (doc: Document) => void): readonly string[] {
  const file = writeSpec(mutate);
  try {
    loadRelease(file);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as InvalidInputError).problems;
  }
  throw new Error('the spec was accepted');
}

/** Sets `value` at `path` under spec.traffic. */
const set =
  (path: (string | number)[], value: unknown) =>
  (doc: Document): void => {
    doc.setIn(['spec', 'traffic', ...path], doc.createNode(value));
  };

describe('the example spec.traffic', () => {
  it('parses, with the TTL and health check timings in milliseconds, the ramp as shares and defaults filled in', () => {
    const traffic = loadRelease(join(examplesDir, 'release.yaml')).spec.spec.traffic!;
    expect(traffic).toMatchObject({
      hostname: 'shop.example.test',
      zone: 'example.test',
      ttl: 5000,
      provider: {
        powerdns: {
          api: 'http://127.0.0.1:8281',
          server: 'localhost',
          nameservers: [{ host: '127.0.0.1', port: 5354 }],
          apiKey: { env: 'MERIDIAN_POWERDNS_API_KEY' },
        },
      },
      healthCheck: { path: '/healthz', port: 18200, scheme: 'http', interval: 1000, timeout: 1000 },
      duringDeploy: 'drain',
      ramp: [0.1, 0.5, 1],
      onRollback: 'drain',
    });
    expect(Object.keys(traffic.regions)).toEqual(production);
    production.forEach((name, i) => {
      expect(traffic.regions[name]).toMatchObject({ addresses: [`127.0.${i + 1}.1`], weight: 1 });
    });
    expect(traffic.regions['ap-northeast-2'].location).toEqual({ latitude: 37.6, longitude: 127.0 });
    expect(traffic.clients.map((c) => c.name)).toEqual([
      'new-york',
      'portland',
      'washington',
      'columbus',
      'london',
      'seoul',
      'dubai',
      'sao-paulo',
      'mumbai',
      'tokyo',
      'sydney',
    ]);
    expect(traffic.clients.find((c) => c.name === 'tokyo')).toEqual({
      name: 'tokyo',
      subnet: '198.18.20.0/24',
      location: { latitude: 35.7, longitude: 139.7 },
    });
  });

  it('is optional: without it the spec is valid, and the schema fills in defaults for a small section', () => {
    expect(loadRelease(writeSpec((doc) => doc.deleteIn(['spec', 'traffic']))).spec.spec.traffic).toBeUndefined();
    const small = {
      hostname: 'example.test.',
      zone: 'example.test.',
      ttl: '30s',
      provider: {
        powerdns: {
          api: 'https://pdns.example.test/',
          nameservers: ['[::1]', 'ns1.example.test:5300'],
          apiKey: { env: 'PDNS_API_KEY' },
        },
      },
      healthCheck: { path: '/healthz', port: 80 },
      regions: { eu: { addresses: ['2001:db8::10'], location: { country: 'IE', continent: 'EU' } } },
    };
    expect(trafficSchema.parse(small)).toEqual(
      expect.objectContaining({
        hostname: 'example.test',
        zone: 'example.test',
        ttl: 30_000,
        duringDeploy: 'keep',
        ramp: [1],
        onRollback: 'drain',
        clients: [],
        healthCheck: { path: '/healthz', port: 80, scheme: 'http', interval: 5000, timeout: 2000 },
      }),
    );
    expect(trafficSchema.parse(small).provider.powerdns).toEqual({
      api: 'https://pdns.example.test/',
      server: 'localhost',
      nameservers: [
        { host: '::1', port: 53 },
        { host: 'ns1.example.test', port: 5300 },
      ],
      apiKey: { env: 'PDNS_API_KEY' },
    });
    // The hostname is the zone's apex here; the API key has no default: every call to the API needs one.
    const { apiKey: _, ...keyless } = small.provider.powerdns;
    expect(trafficSchema.safeParse({ ...small, provider: { powerdns: keyless } }).success).toBe(false);
  });

  it('accepts an API key from a Kubernetes Secret, and locations given as a country or a continent', () => {
    const traffic = loadRelease(
      writeSpec((doc) => {
        set(['provider', 'powerdns', 'apiKey'], {
          secret: { name: 'powerdns-api', key: 'api-key', namespace: 'dns', context: 'meridian-europe' },
        })(doc);
        set(['regions', 'eu-west', 'location'], { country: 'IE', continent: 'EU' })(doc);
        set(['regions', 'sa-east', 'location'], { country: 'BR' })(doc);
        set(['regions', 'ap-south', 'location'], { continent: 'AS' })(doc);
        set(['ramp'], ['0.5%', '12.5%', '100%'])(doc);
        set(['hostname'], 'shop.example.test.')(doc);
      }),
    ).spec.spec.traffic!;
    expect(traffic.provider.powerdns!.apiKey).toEqual({
      secret: { name: 'powerdns-api', key: 'api-key', namespace: 'dns', context: 'meridian-europe' },
    });
    expect(traffic.hostname).toBe('shop.example.test');
    expect(traffic.ramp).toEqual([0.005, 0.125, 1]);
    expect(resolveLocation(traffic.regions['eu-west'].location)).toEqual({ latitude: 53, longitude: -8 });
    expect(resolveLocation(traffic.regions['sa-east'].location)).toEqual({ latitude: -10, longitude: -55 });
    expect(resolveLocation(traffic.regions['ap-south'].location)).toEqual({ latitude: 43.7, longitude: 87.3 });
    expect(resolveLocation({ latitude: 39, longitude: -77.5 })).toEqual({ latitude: 39, longitude: -77.5 });
  });
});

describe('spec.traffic refused, naming the field and the fix', () => {
  it.each<[string, (doc: Document) => void, string[]]>([
    [
      'a region not in spec.regions',
      set(['regions', 'eu-central'], { addresses: ['127.0.9.1'], location: { continent: 'EU' } }),
      [
        `spec.traffic.regions["eu-central"]: unknown region "eu-central": name a production region of spec.regions: ${production.join(', ')}`,
      ],
    ],
    [
      'the staging region',
      set(['regions', 'staging'], { addresses: ['127.0.9.1'], location: { continent: 'NA' } }),
      ['spec.traffic.regions.staging: "staging" is a staging region, which serves no users: remove it here'],
    ],
    [
      'an address two regions share',
      set(['regions', 'us-west', 'addresses'], ['127.0.2.1', '127.0.1.1']),
      [
        'spec.traffic.regions["us-west"].addresses[1]: 127.0.1.1 is also an address of region "us-east-canary": regions "us-east-canary" and "us-west" cannot share an address; give each its own',
      ],
    ],
    [
      'one IPv6 address written two ways in one region',
      set(['regions', 'us-west', 'addresses'], ['2001:db8::1', '2001:DB8:0:0::1']),
      [
        'spec.traffic.regions["us-west"].addresses[1]: 2001:DB8:0:0::1 is listed twice in this region: list each address once',
      ],
    ],
    [
      'an address that is none',
      set(['regions', 'us-west', 'addresses', 0], '127.0.2.256'),
      [
        'spec.traffic.regions["us-west"].addresses[0]: "127.0.2.256" is not an IPv4 or IPv6 address (no brackets, no zone, no leading zeros): give an address such as 127.0.1.1 or 2001:db8::1',
      ],
    ],
    [
      'the unspecified address',
      set(['regions', 'us-west', 'addresses', 0], '0.0.0.0'),
      [
        'spec.traffic.regions["us-west"].addresses[0]: "0.0.0.0" is the unspecified address, which no client can reach: give an address such as 127.0.1.1 or 2001:db8::1',
      ],
    ],
    [
      'too many addresses',
      set(
        ['regions', 'us-west', 'addresses'],
        Array.from({ length: 17 }, (_, i) => `127.0.2.${i + 1}`),
      ),
      ['spec.traffic.regions["us-west"].addresses: at most 16 addresses'],
    ],
    [
      'a subnet with a prefix past 32',
      set(['clients', 0, 'subnet'], '198.18.1.0/33'),
      [
        `spec.traffic.clients[0].subnet: "198.18.1.0/33" has no valid prefix: an IPv4 subnet's is a whole number from 0 to 32`,
      ],
    ],
    [
      'a subnet with host bits set',
      set(['clients', 0, 'subnet'], '198.18.1.1/24'),
      [
        'spec.traffic.clients[0].subnet: "198.18.1.1/24" has bits set past its /24 prefix: give the network address, 198.18.1.0/24',
      ],
    ],
    [
      'a subnet without a prefix',
      set(['clients', 0, 'subnet'], '198.18.1.0'),
      [
        'spec.traffic.clients[0].subnet: "198.18.1.0" is not a subnet in CIDR notation (address/prefix): give one such as 198.18.1.0/24 or 2001:db8:1::/48',
      ],
    ],
    [
      'subnets that overlap',
      set(['clients', 1, 'subnet'], '198.18.0.0/16'),
      [
        'spec.traffic.clients[1].subnet: 198.18.0.0/16 overlaps 198.18.1.0/24 of client "new-york": each address belongs to one client; give subnets that do not overlap',
      ],
    ],
    [
      'two clients of one name',
      set(['clients', 1, 'name'], 'new-york'),
      [
        'spec.traffic.clients[1].name: duplicate client name "new-york" (also clients[0]): give each client its own name',
      ],
    ],
    [
      'a client name that is no DNS label',
      set(['clients', 1, 'name'], 'New York'),
      ['spec.traffic.clients[1].name: expected lowercase letters, digits and dashes (a DNS label), such as eu-west'],
    ],
    [
      'a hostname outside the zone',
      set(['hostname'], 'shop.example.com'),
      [
        'spec.traffic.hostname: "shop.example.com" is not inside zone "example.test": give a name ending in .example.test, or the zone that holds it',
      ],
    ],
    [
      'a hostname that only ends like the zone',
      set(['hostname'], 'shopexample.test'),
      [
        'spec.traffic.hostname: "shopexample.test" is not inside zone "example.test": give a name ending in .example.test, or the zone that holds it',
      ],
    ],
    [
      'a hostname in capitals',
      set(['hostname'], 'Shop.Example.Test'),
      ['spec.traffic.hostname: DNS names are written in lowercase here: give "shop.example.test"'],
    ],
    [
      'a hostname with an empty label',
      set(['hostname'], 'shop..example.test'),
      [
        'spec.traffic.hostname: "shop..example.test" is not a DNS name: labels of lowercase letters, digits and hyphens (not first or last), 1 to 63 characters each, separated by dots, such as shop.example.test',
      ],
    ],
    [
      'a hostname with a label of 64 characters',
      set(['hostname'], `${'a'.repeat(64)}.example.test`),
      [
        `spec.traffic.hostname: "${'a'.repeat(64)}.example.test" is not a DNS name: labels of lowercase letters, digits and hyphens (not first or last), 1 to 63 characters each, separated by dots, such as shop.example.test`,
      ],
    ],
    [
      'a hostname of 254 characters',
      set(['hostname'], `${'a.'.repeat(121)}example.test`),
      ['spec.traffic.hostname: at most 253 characters (a DNS name): give a shorter name'],
    ],
    [
      'an IP address as the zone',
      (doc) => {
        set(['zone'], '127.0.0.1')(doc);
        set(['hostname'], '127.0.0.1')(doc);
      },
      [
        'spec.traffic.hostname: "127.0.0.1" ends in a label of digits only, as an IP address does: give a DNS name such as shop.example.test',
        'spec.traffic.zone: "127.0.0.1" ends in a label of digits only, as an IP address does: give a DNS name such as shop.example.test',
      ],
    ],
    [
      'a ramp that goes down',
      set(['ramp'], ['10%', '50%', '25%']),
      [
        "spec.traffic.ramp[2]: not more than the step before (50%): each step gives more of the region's users, such as [10%, 50%, 100%]",
      ],
    ],
    [
      'a ramp that repeats a step',
      set(['ramp'], ['10%', '10%']),
      [
        "spec.traffic.ramp[1]: not more than the step before (10%): each step gives more of the region's users, such as [10%, 50%, 100%]",
      ],
    ],
    [
      'a ramp step of 0%',
      set(['ramp'], ['0%', '100%']),
      ['spec.traffic.ramp[0]: 0% is not a share of users: give more than 0% and at most 100%, such as 10%'],
    ],
    [
      'a ramp step of 150%',
      set(['ramp'], ['10%', '150%']),
      ['spec.traffic.ramp[1]: 150% is not a share of users: give more than 0% and at most 100%, such as 10%'],
    ],
    [
      "a ramp step of 'abc'",
      set(['ramp'], ['abc']),
      [`spec.traffic.ramp[0]: expected a share of the region's users as a percentage, such as 10% or 0.5%, got "abc"`],
    ],
    [
      'a ramp step as a fraction',
      set(['ramp'], [0.5]),
      ["spec.traffic.ramp[0]: expected a share of the region's users as a percentage, such as 10%, got 0.5"],
    ],
    ['an empty ramp', set(['ramp'], []), ['spec.traffic.ramp: give at least one step, such as [100%]']],
    [
      'a ramp of 11 steps',
      set(
        ['ramp'],
        Array.from({ length: 11 }, (_, i) => `${i + 1}%`),
      ),
      ['spec.traffic.ramp: at most 10 steps'],
    ],
    [
      'a latitude of 91',
      set(['regions', 'us-west', 'location'], { latitude: 91, longitude: -121.2 }),
      ['spec.traffic.regions["us-west"].location.latitude: at most 90, such as 37.6'],
    ],
    [
      'a longitude of -181',
      set(['regions', 'us-west', 'location'], { latitude: 45.6, longitude: -181 }),
      ['spec.traffic.regions["us-west"].location.longitude: at least -180, such as 127.0'],
    ],
    [
      'a latitude without a longitude',
      set(['regions', 'us-west', 'location'], { latitude: 45.6 }),
      ['spec.traffic.regions["us-west"].location.longitude: latitude without longitude: give both'],
    ],
    [
      'coordinates and a country',
      set(['regions', 'us-west', 'location'], { latitude: 45.6, longitude: -121.2, country: 'US' }),
      [
        'spec.traffic.regions["us-west"].location: coordinates and a country or continent together: give { latitude, longitude }, { country: KR } (optionally with its continent) or { continent: EU }, one of them',
      ],
    ],
    [
      'no location at all',
      set(['regions', 'us-west', 'location'], {}),
      [
        'spec.traffic.regions["us-west"].location: no location: give { latitude, longitude }, { country: KR } (optionally with its continent) or { continent: EU }',
      ],
    ],
    [
      'an unknown country',
      set(['regions', 'us-west', 'location'], { country: 'XX' }),
      [
        'spec.traffic.regions["us-west"].location.country: unknown country "XX": give an ISO 3166-1 alpha-2 code such as KR, US or DE',
      ],
    ],
    [
      'a country in lowercase',
      set(['regions', 'us-west', 'location'], { country: 'us' }),
      ['spec.traffic.regions["us-west"].location.country: unknown country "us": write it in capitals, US'],
    ],
    [
      "a continent that is not the country's",
      set(['regions', 'ap-northeast-2', 'location'], { country: 'KR', continent: 'EU' }),
      [
        'spec.traffic.regions["ap-northeast-2"].location.continent: KR is in AS, not EU: give continent: AS, or leave it out',
      ],
    ],
    [
      'an unknown continent',
      set(['regions', 'us-west', 'location'], { continent: 'EUROPE' }),
      [
        'spec.traffic.regions["us-west"].location.continent: expected "AF" | "AN" | "AS" | "EU" | "NA" | "OC" | "SA", got "EUROPE"',
      ],
    ],
    [
      'a weight of 0',
      set(['regions', 'us-west', 'weight'], 0),
      ['spec.traffic.regions["us-west"].weight: at least 0.01, such as 1'],
    ],
    [
      'a weight of 1000',
      set(['regions', 'us-west', 'weight'], 1000),
      ['spec.traffic.regions["us-west"].weight: at most 100, such as 1'],
    ],
    [
      'a misspelt field of a region',
      (doc) => {
        doc.deleteIn(['spec', 'traffic', 'regions', 'us-west', 'addresses']);
        set(['regions', 'us-west', 'adresses'], ['127.0.2.1'])(doc);
      },
      [
        'spec.traffic.regions["us-west"].addresses: missing: add this field (a list)',
        'spec.traffic.regions["us-west"].adresses: unknown field: did you mean "addresses"?',
      ],
    ],
    [
      'an unknown field of the section',
      set(['failover'], true),
      [
        'spec.traffic.failover: unknown field: remove it (fields here: hostname, zone, ttl, provider, healthCheck, duringDeploy, ramp, onRollback, regions, clients)',
      ],
    ],
    [
      'an API key written into the spec',
      set(['provider', 'powerdns', 'apiKey'], 'pdns-s3cr3t-k3y'),
      [
        'spec.traffic.provider.powerdns.apiKey: API keys never go in the spec (it travels in workflow history): remove it, rotate it if it was committed, and give { env: MERIDIAN_POWERDNS_API_KEY } or { secret: { name, key } }',
      ],
    ],
    [
      'both env and secret',
      set(['provider', 'powerdns', 'apiKey'], { env: 'PDNS_KEY', secret: { name: 'pdns', key: 'api-key' } }),
      [
        'spec.traffic.provider.powerdns.apiKey: give exactly one of env or secret, such as { env: MERIDIAN_POWERDNS_API_KEY }, not both',
      ],
    ],
    [
      'an environment variable name in lowercase',
      set(['provider', 'powerdns', 'apiKey'], { env: 'pdns_key' }),
      [
        'spec.traffic.provider.powerdns.apiKey.env: expected an environment variable name such as MERIDIAN_POWERDNS_API_KEY',
      ],
    ],
    [
      'the key under another name',
      set(['provider', 'powerdns', 'apiKey'], { value: 'pdns-s3cr3t-k3y' }),
      [
        'spec.traffic.provider.powerdns.apiKey.value: unknown field: remove it (fields here: env, secret)',
        'spec.traffic.provider.powerdns.apiKey: give exactly one of env or secret, such as { env: MERIDIAN_POWERDNS_API_KEY }',
      ],
    ],
    [
      'credentials in the API URL',
      set(['provider', 'powerdns', 'api'], 'http://admin:pdns-s3cr3t@127.0.0.1:8281'),
      [
        'spec.traffic.provider.powerdns.api: credentials never go in the URL (the spec travels in workflow history): remove user:pass@ and give the key in apiKey',
      ],
    ],
    [
      'an API URL that is not http(s)',
      set(['provider', 'powerdns', 'api'], 'ftp://127.0.0.1:8281'),
      ['spec.traffic.provider.powerdns.api: expected an http(s) URL, such as http://127.0.0.1:8281'],
    ],
    [
      // Found by the spec-mutation fuzzer: the credentials check once parsed what the URL check had refused (exit 70).
      'an API URL that does not parse',
      set(['provider', 'powerdns', 'api'], 'http://[127.0.0.1:8281'),
      ['spec.traffic.provider.powerdns.api: expected an http(s) URL, such as http://127.0.0.1:8281'],
    ],
    [
      'an API URL with a query',
      set(['provider', 'powerdns', 'api'], 'http://127.0.0.1:8281/?api-key=x'),
      ['spec.traffic.provider.powerdns.api: give the base URL of the API, without ? or #'],
    ],
    [
      'Route 53 beside PowerDNS',
      set(['provider', 'route53'], { hostedZoneId: 'Z123' }),
      ['spec.traffic.provider: give exactly one DNS provider, powerdns or route53, not both'],
    ],
    [
      'no provider',
      set(['provider'], {}),
      [
        'spec.traffic.provider: give the DNS provider: powerdns: { api, nameservers, apiKey } or route53: { hostedZoneId }',
      ],
    ],
    [
      'a bare IPv6 nameserver',
      set(['provider', 'powerdns', 'nameservers'], ['::1']),
      ['spec.traffic.provider.powerdns.nameservers[0]: "::1": write an IPv6 address in brackets, [::1]:53'],
    ],
    [
      'a nameserver port of 0',
      set(['provider', 'powerdns', 'nameservers'], ['127.0.0.1:0']),
      ['spec.traffic.provider.powerdns.nameservers[0]: "127.0.0.1:0": the port is a number from 1 to 65535'],
    ],
    [
      'a nameserver listed twice',
      set(['provider', 'powerdns', 'nameservers'], ['127.0.0.1:5354', '127.0.0.1:5354']),
      ['spec.traffic.provider.powerdns.nameservers[1]: listed twice: list each nameserver once'],
    ],
    [
      'no nameserver',
      set(['provider', 'powerdns', 'nameservers'], []),
      ['spec.traffic.provider.powerdns.nameservers: give at least one nameserver, such as 127.0.0.1:5354'],
    ],
    [
      'a health check timeout longer than its interval',
      (doc) => {
        set(['healthCheck', 'interval'], '1s')(doc);
        set(['healthCheck', 'timeout'], '1500ms')(doc);
      },
      [
        'spec.traffic.healthCheck.timeout: 1s500ms is longer than the interval, 1s: a check must end before the next begins; give a timeout of at most 1s, or a longer interval',
      ],
    ],
    [
      'a health check interval under 1s',
      set(['healthCheck', 'interval'], '500ms'),
      ['spec.traffic.healthCheck.interval: at least 1s: give 1s or more'],
    ],
    [
      'a health check interval over 5m',
      set(['healthCheck', 'interval'], '6m'),
      ['spec.traffic.healthCheck.interval: at most 5m: give a shorter duration, got "6m"'],
    ],
    [
      'a health check path without its slash',
      set(['healthCheck', 'path'], 'healthz'),
      [
        'spec.traffic.healthCheck.path: expected a path starting with /, of URL characters (letters, digits, - . _ ~ ! $ & ( ) * + , ; = : @ / ? and %XX escapes), such as /healthz',
      ],
    ],
    [
      'a health check path with a quote',
      set(['regions', 'us-west', 'healthCheck'], { path: "/healthz')..os.exit()--" }),
      [
        'spec.traffic.regions["us-west"].healthCheck.path: expected a path starting with /, of URL characters (letters, digits, - . _ ~ ! $ & ( ) * + , ; = : @ / ? and %XX escapes), such as /healthz',
      ],
    ],
    [
      'a health check port of 70000',
      set(['healthCheck', 'port'], 70000),
      ['spec.traffic.healthCheck.port: expected a port number from 1 to 65535'],
    ],
    ['a TTL of 2d', set(['ttl'], '2d'), ['spec.traffic.ttl: at most 1d: give a shorter duration, got "2d"']],
    ['a TTL of 500ms', set(['ttl'], '500ms'), ['spec.traffic.ttl: at least 1s: give 1s or more']],
    [
      'a TTL of part of a second',
      set(['ttl'], '1500ms'),
      ['spec.traffic.ttl: DNS counts TTLs in whole seconds: give one such as 5s'],
    ],
    ['no regions', set(['regions'], {}), ['spec.traffic.regions: list at least one region']],
    [
      'regions as a list',
      set(['regions'], ['us-west']),
      [
        'spec.traffic.regions: expected a mapping of region names (from spec.regions) to { addresses, location }, got a list',
      ],
    ],
  ])('refuses %s', (_name, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });

  it.each([
    ['.nan', 'NaN'],
    ['.inf', 'Infinity'],
    ['-.inf', '-Infinity'],
  ])('refuses a weight of %s (YAML), naming the range', (yaml, shown) => {
    const file = writeSpec(set(['regions', 'us-west', 'weight'], Number(shown)));
    expect(readFileSync(file, 'utf8')).toContain(`weight: ${yaml}`);
    expect(() => loadRelease(file)).toThrow(InvalidInputError);
    try {
      loadRelease(file);
    } catch (err) {
      expect((err as InvalidInputError).problems).toEqual([
        `spec.traffic.regions["us-west"].weight: expected a finite number from 0.01 to 100, such as 1, got ${shown}`,
      ]);
    }
  });

  it('refuses a latitude of .nan', () => {
    expect(problemsOf(set(['regions', 'us-west', 'location', 'latitude'], NaN))).toEqual([
      'spec.traffic.regions["us-west"].location.latitude: expected a finite number from -90 to 90, such as 37.6, got NaN',
    ]);
  });

  it('never prints an API key written into the spec, nor a password in the URL', () => {
    const problems = problemsOf((doc) => {
      set(['provider', 'powerdns', 'apiKey'], 'pdns-s3cr3t-k3y')(doc);
      set(['provider', 'powerdns', 'api'], 'http://admin:pdns-s3cr3t@127.0.0.1:8281')(doc);
    });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toMatch(/s3cr3t/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses %s as a region key, which would reach a prototype',
    (key) => {
      const problems = problemsOf((doc) => {
        const regions = doc.getIn(['spec', 'traffic', 'regions']) as { set: (k: unknown, v: unknown) => void };
        regions.set(doc.createNode(key), doc.createNode({ addresses: ['127.0.9.1'], location: { continent: 'EU' } }));
      });
      expect(problems).toEqual([
        key === '__proto__'
          ? 'spec.traffic.regions.__proto__: a region named "__proto__" would reach the prototype of every object, and no region is called so: remove it'
          : `spec.traffic.regions.${key}: a region named "${key}" would reach the prototype of every object: rename the region in spec.regions and here`,
      ]);
      expect(({} as Record<string, unknown>).addresses).toBeUndefined();
    },
  );

  it('quotes only an excerpt of a long hostname or region name', () => {
    const long = `${'a'.repeat(5000)}.example.test`;
    const [problem] = problemsOf(set(['hostname'], long));
    expect(problem.length).toBeLessThan(200);
    const [unknown] = problemsOf(
      set(['regions', 'b'.repeat(5000)], { addresses: ['127.0.9.1'], location: { continent: 'EU' } }),
    );
    expect(unknown.length).toBeLessThan(600);
  });
});

/** The example on Route 53: PowerDNS replaced by `route53`, checks every 10 s, then `mutate`. */
const onRoute53 =
  (route53: Record<string, unknown> = {}, mutate: (doc: Document) => void = () => undefined) =>
  (doc: Document): void => {
    doc.deleteIn(['spec', 'traffic', 'provider', 'powerdns']);
    set(['provider', 'route53'], { hostedZoneId: 'Z0123456789ABCDEFGHIJ', ...route53 })(doc);
    set(['healthCheck', 'interval'], '10s')(doc);
    mutate(doc);
  };

describe('spec.traffic.provider.route53', () => {
  it('takes a hosted zone id, with the API region us-east-1, no endpoint and no nameservers by default', () => {
    const traffic = loadRelease(writeSpec(onRoute53())).spec.spec.traffic!;
    expect(traffic.provider).toEqual({ route53: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', region: 'us-east-1' } });
    expect(traffic.healthCheck.interval).toBe(10_000);
    expect(
      route53LatencyRegions({ regions: traffic.regions, provider: { route53: traffic.provider.route53! } }),
    ).toEqual({
      'us-east-canary': 'us-east-2',
      'us-west': 'us-west-2',
      'us-east': 'us-east-1',
      'eu-west': 'eu-west-1',
      'ap-northeast-2': 'ap-northeast-2',
      'me-central': 'me-central-1',
      'sa-east': 'sa-east-1',
      'ap-south': 'ap-south-1',
    });
  });

  it('takes an endpoint, an API region, nameservers to ask, an interval of 30s and latency regions given by hand', () => {
    const traffic = loadRelease(
      writeSpec(
        onRoute53(
          {
            region: 'eu-central-1',
            endpoint: 'http://127.0.0.1:5000',
            nameservers: ['127.0.0.1:5354'],
            latencyRegions: { 'us-east-canary': 'us-east-1', 'us-east': 'ca-central-1' },
          },
          set(['healthCheck', 'interval'], '30s'),
        ),
      ),
    ).spec.spec.traffic!;
    expect(traffic.provider.route53).toEqual({
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:5000',
      nameservers: [{ host: '127.0.0.1', port: 5354 }],
      latencyRegions: { 'us-east-canary': 'us-east-1', 'us-east': 'ca-central-1' },
    });
    const regions = route53LatencyRegions({
      regions: traffic.regions,
      provider: { route53: traffic.provider.route53! },
    });
    expect([regions['us-east-canary'], regions['us-east'], regions['eu-west']]).toEqual([
      'us-east-1',
      'ca-central-1',
      'eu-west-1',
    ]);
  });

  it.each<[string, (doc: Document) => void, string[]]>([
    [
      'a health check interval Route 53 does not have',
      onRoute53({}, set(['healthCheck', 'interval'], '1s')),
      [
        'spec.traffic.healthCheck.interval: Route 53 checks an address every 10s or 30s, at no other interval: give interval: 10s or 30s with provider route53, got 1s',
      ],
    ],
    [
      'the default interval (5s)',
      onRoute53({}, (doc) => doc.deleteIn(['spec', 'traffic', 'healthCheck', 'interval'])),
      [
        'spec.traffic.healthCheck.interval: Route 53 checks an address every 10s or 30s, at no other interval: give interval: 10s or 30s with provider route53, got 5s',
      ],
    ],
    [
      'a weight (latency records cannot bias)',
      onRoute53({}, set(['regions', 'us-west', 'weight'], 2)),
      [
        'spec.traffic.regions["us-west"].weight: Route 53 latency records cannot bias a region: remove weight (or give 1) with provider route53, or place the region with its location',
      ],
    ],
    [
      'an id with /hostedzone/',
      onRoute53({ hostedZoneId: '/hostedzone/Z0123456789ABCDEFGHIJ' }),
      ['spec.traffic.provider.route53.hostedZoneId: give the id without /hostedzone/: Z0123456789ABCDEFGHIJ'],
    ],
    [
      'an id that is not one',
      onRoute53({ hostedZoneId: 'example.test' }),
      [
        'spec.traffic.provider.route53.hostedZoneId: expected the id of a Route 53 hosted zone, such as Z0123456789ABCDEFGHIJ (letters and digits)',
      ],
    ],
    [
      'an API region that is not one',
      onRoute53({ region: 'Virginia' }),
      ['spec.traffic.provider.route53.region: expected an AWS region such as us-east-1'],
    ],
    [
      'an endpoint with a query',
      onRoute53({ endpoint: 'http://127.0.0.1:5000/?X-Amz-Signature=abc' }),
      ['spec.traffic.provider.route53.endpoint: give the base URL of the API, without ? or #'],
    ],
    [
      'an endpoint that is not http(s)',
      onRoute53({ endpoint: 'ftp://127.0.0.1' }),
      ['spec.traffic.provider.route53.endpoint: expected an http(s) URL, such as http://127.0.0.1:5000'],
    ],
    [
      'an AWS region a latency record cannot name',
      onRoute53({ latencyRegions: { 'us-west': 'us-west-9' } }),
      [
        'spec.traffic.provider.route53.latencyRegions["us-west"]: "us-west-9" is not an AWS region a Route 53 latency record can name: give one such as us-east-1 or eu-west-1',
      ],
    ],
    [
      'a latency region for a region not behind the hostname',
      onRoute53({ latencyRegions: { 'eu-central': 'eu-central-1' } }),
      [
        'spec.traffic.provider.route53.latencyRegions["eu-central"]: "eu-central" is not a region of spec.traffic.regions: remove it, or name one of us-east-canary, us-west, us-east, eu-west, ap-northeast-2, me-central, sa-east, ap-south',
      ],
    ],
    [
      'two regions in one AWS region',
      onRoute53({ latencyRegions: { 'us-east-canary': 'us-east-1' } }),
      [
        'spec.traffic.provider.route53.latencyRegions: regions "us-east-canary" and "us-east" would both answer from AWS region us-east-1, and Route 53 keeps one latency record per AWS region: give each its own here, such as { us-east: <another AWS region> }',
      ],
    ],
    [
      'nameservers listed twice',
      onRoute53({ nameservers: ['127.0.0.1:53', '127.0.0.1'] }),
      ['spec.traffic.provider.route53.nameservers[1]: listed twice: list each nameserver once'],
    ],
    [
      'a hostname too long for the per-region names',
      onRoute53({}, (doc) => {
        const name = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(50)}.example.test`;
        set(['hostname'], name)(doc);
      }),
      [
        "spec.traffic.hostname: too long for Route 53's per-region records (_meridian.<region>.<hostname> is 271 characters, DNS allows 253): give a shorter hostname or shorter region names",
      ],
    ],
  ])('refuses %s', (_name, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });

  it('refuses AWS keys written into the spec (before anything else of the section) and credentials in the endpoint, never printing them', () => {
    const problems = problemsOf(
      onRoute53({
        accessKeyId: 'AKIAS3CR3TKEYID00001',
        secretAccessKey: 'aws-s3cr3t-access-key',
        session_token: 'aws-s3cr3t-token',
      }),
    );
    const fix =
      'AWS credentials never go in the spec (it travels in workflow history): remove it, rotate the key if it was committed, and give the worker credentials through the AWS default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment, AWS_PROFILE, or the role of its instance or pod)';
    expect(problems).toEqual([
      `spec.traffic.provider.route53.accessKeyId: ${fix}`,
      `spec.traffic.provider.route53.secretAccessKey: ${fix}`,
      `spec.traffic.provider.route53.session_token: ${fix}`,
    ]);
    expect(problems.join('\n')).not.toMatch(/s3cr3t|S3CR3T/);
    const inUrl = problemsOf(onRoute53({ endpoint: 'https://admin:aws-s3cr3t@route53.example.test' }));
    expect(inUrl).toEqual([
      "spec.traffic.provider.route53.endpoint: credentials never go in the URL (the spec travels in workflow history): remove user:pass@; the worker's AWS credentials come from its default chain",
    ]);
  });

  it.each(['__proto__', 'constructor'])('refuses %s as a key of latencyRegions', (key) => {
    const problems = problemsOf(
      onRoute53({}, (doc) => {
        set(['provider', 'route53', 'latencyRegions'], {})(doc);
        const map = doc.getIn(['spec', 'traffic', 'provider', 'route53', 'latencyRegions']) as {
          set: (k: unknown, v: unknown) => void;
        };
        map.set(doc.createNode(key), doc.createNode('us-east-1'));
      }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^spec\.traffic\.provider\.route53\.latencyRegions/);
    expect(({} as Record<string, unknown>)['us-east-1']).toBeUndefined();
  });
});

describe('country and continent locations', () => {
  it('holds every country with a point on the globe and one of the seven continents', () => {
    for (const code of ['KR', 'US', 'DE', 'BR', 'IN', 'AE', 'IE', 'JP', 'AU', 'AQ', 'EG', 'XK']) {
      const [lat, lon, continent] = countryLocation(code)!;
      expect(Math.abs(lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(lon)).toBeLessThanOrEqual(180);
      expect(Object.keys(continentCentroids)).toContain(continent);
    }
    expect(countryLocation('KR')![2]).toBe('AS');
    expect(countryLocation('BR')![2]).toBe('SA');
    expect(countryLocation('MX')![2]).toBe('NA');
    expect(countryLocation('AQ')![2]).toBe('AN');
    expect(countryLocation('NZ')![2]).toBe('OC');
    expect(countryLocation('XX')).toBeUndefined();
    expect(countryLocation('constructor')).toBeUndefined();
    expect(countryLocation('__proto__')).toBeUndefined();
  });

  it('is what scripts/generate-country-locations.js makes from world-countries', () => {
    expect(countries.length).toBeGreaterThan(240);
    for (const c of countries) {
      const [lat, lon] = countryLocation(c.cca2)!;
      expect([c.cca2, lat, lon]).toEqual([
        c.cca2,
        Math.round(c.latlng[0] * 100) / 100,
        Math.round(c.latlng[1] * 100) / 100,
      ]);
    }
  });
});

describe('any value anywhere in spec.traffic', () => {
  const example = loadRelease(join(examplesDir, 'release.yaml'));
  const raw = parseDocument(exampleText).toJS() as { spec: { traffic: Record<string, unknown> } };
  const paths: (string | number)[][] = [
    [],
    ['hostname'],
    ['ttl'],
    ['provider'],
    ['provider', 'powerdns', 'apiKey'],
    ['provider', 'powerdns', 'nameservers', 0],
    ['provider', 'route53'],
    ['healthCheck'],
    ['ramp'],
    ['regions'],
    ['regions', 'us-west'],
    ['regions', 'us-west', 'addresses', 0],
    ['regions', 'us-west', 'location'],
    ['clients', 0],
    ['clients', 0, 'subnet'],
  ];

  it('is refused with bounded problem lines or accepted, never a crash (property)', () => {
    expect(example.spec.spec.traffic).toBeDefined();
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.anything({ maxDepth: 3 }), (path, value) => {
        const spec = structuredClone(raw);
        let node: Record<string | number, unknown> = spec.spec;
        const full = ['traffic', ...path];
        for (const key of full.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
        node[full[full.length - 1]] = value;
        const parsed = releaseSpecSchema.safeParse(spec, { reportInput: true });
        if (!parsed.success)
          for (const line of formatZodIssues(parsed.error, '', releaseSpecSchema))
            expect(line.length).toBeLessThan(700);
      }),
      { seed: 21, numRuns: 2_000 },
    );
  });
});
