import { z } from 'zod';
import { isAwsLatencyRegion, nearestAwsRegion } from './aws-regions';
import { type ContinentCode, continentCentroids, continentCodes, countryLocation } from './country-locations';
import { formatDuration } from './duration';
import { quoteExcerpt } from './excerpt';
import {
  formatSubnet,
  type IpSubnet,
  ipKey,
  parseIpAddress,
  parseSubnet,
  subnetsOverlap,
  unusableAddressProblem,
} from './ip-addresses';
import { dnsLabel, durationField } from './schema-helpers';
import { prototypeKeys } from './value-paths';

/**
 * `spec.traffic`: one hostname for the world, answered by a DNS service (PowerDNS or Route 53) that sends each
 * client to the nearest healthy region, and steered by the release: a region's share of its own users
 * while it bakes, draining it during its deploy or on rollback. Objects are strict, like the rest of the
 * spec, and every number and string has a bound.
 */

const second = 1000;
const minute = 60 * second;
const day = 86_400_000;

/** Most regions behind the hostname, addresses of a region, nameservers, ramp steps and clients. */
export const trafficLimits = { regions: 256, addresses: 16, nameservers: 8, rampSteps: 10, clients: 64 } as const;

const dnsNameChars = 253;
const dnsNameLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const dnsNameRule =
  'labels of lowercase letters, digits and hyphens (not first or last), 1 to 63 characters each, separated by dots';

/**
 * A DNS name such as shop.example.test: lowercase, labels of 1 to 63 letters, digits and hyphens, at most
 * 253 characters. A trailing dot (the root) is accepted and dropped.
 */
const dnsNameField = () =>
  z
    .string()
    .max(dnsNameChars + 1, `at most ${dnsNameChars} characters (a DNS name): give a shorter name`)
    .transform((text, ctx) => {
      const name = text.endsWith('.') ? text.slice(0, -1) : text;
      const refuse = (message: string) => {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      };
      if (name.length > dnsNameChars)
        return refuse(`at most ${dnsNameChars} characters (a DNS name): give a shorter name`);
      if (name !== name.toLowerCase() && dnsName(name.toLowerCase()))
        return refuse(`DNS names are written in lowercase here: give ${quoteExcerpt(name.toLowerCase())}`);
      if (!dnsName(name))
        return refuse(`${quoteExcerpt(text)} is not a DNS name: ${dnsNameRule}, such as shop.example.test`);
      if (/^\d+$/.test(name.slice(name.lastIndexOf('.') + 1)))
        return refuse(
          `${quoteExcerpt(text)} ends in a label of digits only, as an IP address does: give a DNS name such as shop.example.test`,
        );
      return name;
    });

function dnsName(name: string): boolean {
  return name.length > 0 && name.split('.').every((label) => dnsNameLabel.test(label));
}

/** A duration from `minMs` to `maxMs` (each given in its message as `min` and `max`). */
const boundedDuration = (minMs: number, min: string, maxMs: number) =>
  durationField(maxMs).refine((ms) => ms >= minMs, `at least ${min}: give ${min} or more`);

/** A finite number from `min` to `max`; NaN and infinities (YAML .nan, .inf) are refused with the range. */
const finiteNumber = (min: number, max: number, example: string) =>
  z
    .number({ error: `expected a finite number from ${min} to ${max}, such as ${example}` })
    .min(min, `at least ${min}, such as ${example}`)
    .max(max, `at most ${max}, such as ${example}`);

const port = () =>
  z
    .number({ error: 'expected a port number from 1 to 65535' })
    .int('expected a whole port number from 1 to 65535')
    .min(1, 'expected a port number from 1 to 65535')
    .max(65535, 'expected a port number from 1 to 65535');

export const healthCheckSchemes = ['http', 'https'] as const;

/** Characters of a URL path and query (RFC 3986) but the quote, so that a path is safe to put into a DNS server's record. */
const healthPath = () =>
  z
    .string()
    .max(256, 'at most 256 characters: give a shorter path')
    .regex(
      /^\/([A-Za-z0-9\-._~!$&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/,
      'expected a path starting with /, of URL characters (letters, digits, - . _ ~ ! $ & ( ) * + , ; = : @ / ? and %XX escapes), such as /healthz',
    );

const healthCheckSchema = z
  .strictObject({
    path: healthPath().describe('Path the DNS server requests of each address, e.g. /healthz'),
    port: port().describe('Port the DNS server checks each address on'),
    scheme: z.enum(healthCheckSchemes).default('http').describe('http | https'),
    interval: boundedDuration(second, '1s', 5 * minute)
      .default(5 * second)
      .describe('Time between two checks of an address, 1s to 5m (Route 53: 10s or 30s)'),
    timeout: boundedDuration(100, '100ms', 30 * second)
      .default(2 * second)
      .describe('How long a check may take, 100ms to 30s, at most the interval'),
  })
  .superRefine((check, ctx) => {
    // Only between valid durations: a too short one is refused on its own.
    if (check.interval >= second && check.timeout >= 100 && check.timeout > check.interval)
      ctx.addIssue({
        code: 'custom',
        path: ['timeout'],
        message: `${formatDuration(check.timeout)} is longer than the interval, ${formatDuration(check.interval)}: a check must end before the next begins; give a timeout of at most ${formatDuration(check.interval)}, or a longer interval`,
      });
  })
  .describe("How the DNS server itself checks each region's addresses; an address that fails is not answered");

const healthCheckOverrideSchema = z
  .strictObject({
    path: healthPath().optional(),
    port: port().optional(),
    scheme: z.enum(healthCheckSchemes).optional(),
  })
  .describe("This region's own path, port or scheme, over spec.traffic.healthCheck");

/** A location as written: coordinates, a country (optionally with its continent), or a continent. */
export type LocationSpec =
  | { latitude: number; longitude: number }
  | { country: string; continent?: ContinentCode }
  | { continent: ContinentCode };

/** A point on the globe, in degrees: what every location resolves to. */
export interface GeoLocation {
  latitude: number;
  longitude: number;
}

const locationSchema = z
  .strictObject({
    latitude: finiteNumber(-90, 90, '37.6').optional().describe('Degrees north (negative: south), -90 to 90'),
    longitude: finiteNumber(-180, 180, '127.0').optional().describe('Degrees east (negative: west), -180 to 180'),
    country: z
      .string()
      .max(80, 'expected an ISO 3166-1 alpha-2 code such as KR, US or DE')
      .optional()
      .describe('ISO 3166-1 alpha-2 code, e.g. KR; stands for a point in the country'),
    continent: z
      .enum(continentCodes)
      .optional()
      .describe('AF | AN | AS | EU | NA | OC | SA; alone, it stands for a centre of the continent'),
  })
  .transform((loc, ctx): LocationSpec => {
    const refuse = (message: string, path: string[] = []) => {
      ctx.addIssue({ code: 'custom', path, message });
      return z.NEVER;
    };
    const forms = 'give { latitude, longitude }, { country: KR } (optionally with its continent) or { continent: EU }';
    const { latitude, longitude, country, continent } = loc;
    if (latitude !== undefined || longitude !== undefined) {
      if (country !== undefined || continent !== undefined)
        return refuse(`coordinates and a country or continent together: ${forms}, one of them`);
      if (latitude === undefined) return refuse('longitude without latitude: give both', ['latitude']);
      if (longitude === undefined) return refuse('latitude without longitude: give both', ['longitude']);
      return { latitude, longitude };
    }
    if (country !== undefined) {
      const found = countryLocation(country);
      if (!found) {
        const upper = country.toUpperCase();
        const hint = upper !== country && countryLocation(upper) ? `: write it in capitals, ${upper}` : '';
        return refuse(
          hint
            ? `unknown country ${quoteExcerpt(country)}${hint}`
            : `unknown country ${quoteExcerpt(country)}: give an ISO 3166-1 alpha-2 code such as KR, US or DE`,
          ['country'],
        );
      }
      if (continent !== undefined && continent !== found[2])
        return refuse(`${country} is in ${found[2]}, not ${continent}: give continent: ${found[2]}, or leave it out`, [
          'continent',
        ]);
      return continent === undefined ? { country } : { country, continent };
    }
    if (continent !== undefined) return { continent };
    return refuse(`no location: ${forms}`);
  })
  .describe(
    'Where the region or client is: { latitude, longitude }, { country } (with continent, which must then be its own) or { continent }',
  );

/** Where a location written as coordinates, a country or a continent is, in degrees. */
export function resolveLocation(loc: LocationSpec): GeoLocation {
  if ('latitude' in loc) return { latitude: loc.latitude, longitude: loc.longitude };
  if ('country' in loc) {
    const found = countryLocation(loc.country);
    if (!found) throw new Error(`unknown country ${quoteExcerpt(loc.country)}: validate the spec first`);
    return { latitude: found[0], longitude: found[1] };
  }
  const [latitude, longitude] = continentCentroids[loc.continent];
  return { latitude, longitude };
}

const ipAddressField = () =>
  z
    .string()
    .max(64, 'at most 64 characters: give an IPv4 or IPv6 address such as 127.0.1.1 or 2001:db8::1')
    .superRefine((text, ctx) => {
      const address = parseIpAddress(text);
      const problem = address
        ? unusableAddressProblem(address)
        : 'is not an IPv4 or IPv6 address (no brackets, no zone, no leading zeros)';
      if (problem)
        ctx.addIssue({
          code: 'custom',
          message: `${quoteExcerpt(text)} ${problem}: give an address such as 127.0.1.1 or 2001:db8::1`,
        });
    });

const subnetField = () =>
  z
    .string()
    .max(64, 'at most 64 characters: give a subnet such as 198.18.1.0/24')
    .superRefine((text, ctx) => {
      const parsed = parseSubnet(text);
      if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: `${quoteExcerpt(text)} ${parsed.problem}` });
    });

const trafficRegionSchema = z.strictObject({
  addresses: z
    .array(ipAddressField())
    .min(1, 'give at least one address')
    .max(trafficLimits.addresses, `at most ${trafficLimits.addresses} addresses`)
    .describe("The region's IPv4 and IPv6 addresses the DNS server answers with, unique across regions"),
  location: locationSchema,
  weight: finiteNumber(0.01, 100, '1')
    .default(1)
    .describe('Bias toward the region: a region of weight 2 is treated as half as far away'),
  healthCheck: healthCheckOverrideSchema.optional(),
});

/** Where the `__proto__` key of a mapping is: YAML makes it an own key, which zod's record drops unseen. */
function refuseProtoKey(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__'))
    ctx.addIssue({
      code: 'custom',
      path: ['__proto__'],
      message:
        'a region named "__proto__" would reach the prototype of every object, and no region is called so: remove it',
    });
  return raw;
}

const trafficRegionsSchema = z.preprocess(
  refuseProtoKey,
  z
    .record(z.string(), trafficRegionSchema, {
      error: 'expected a mapping of region names (from spec.regions) to { addresses, location }',
    })
    .superRefine((regions, ctx) => {
      const names = Object.keys(regions);
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'list at least one region' });
      if (names.length > trafficLimits.regions)
        ctx.addIssue({ code: 'custom', message: `at most ${trafficLimits.regions} regions` });
      for (const name of names.filter((n) => prototypeKeys.includes(n)))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `a region named ${JSON.stringify(name)} would reach the prototype of every object: rename the region in spec.regions and here`,
        });
    }),
);

/** An http(s) URL of an API, without credentials, query or fragment; `credentialsFix` says where credentials go instead. */
const apiUrlField = (example: string, credentialsFix: string) =>
  z
    .string()
    .max(2048, 'at most 2048 characters: give the base URL of the API')
    .pipe(z.url({ protocol: /^https?$/, error: `expected an http(s) URL, such as ${example}` }))
    .superRefine((text, ctx) => {
      // zod runs this even when the URL check above failed: that refusal is already reported.
      if (!URL.canParse(text)) return;
      const url = new URL(text);
      if (url.username || url.password)
        ctx.addIssue({
          code: 'custom',
          message: `credentials never go in the URL (the spec travels in workflow history): ${credentialsFix}`,
        });
      else if (url.search || url.hash || text.includes('?') || text.includes('#'))
        ctx.addIssue({ code: 'custom', message: 'give the base URL of the API, without ? or #' });
    });

const nameserverField = () =>
  z
    .string()
    .max(300, 'at most 300 characters: give host:port, such as 127.0.0.1:5354')
    .transform((text, ctx) => {
      const parsed = parseHostPort(text);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: `${quoteExcerpt(text)}: ${parsed}` });
        return z.NEVER;
      }
      return parsed;
    });

/** A nameserver: `host`, `host:port`, `[v6]` or `[v6]:port` (port 53 unless given), or why it is not one. */
function parseHostPort(text: string): { host: string; port: number } | string {
  const form = 'expected host:port, [IPv6]:port or a host alone (port 53), such as 127.0.0.1:5354 or [::1]:53';
  const match = /^(\[([^\]]*)\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return parseIpAddress(text)?.version === 6 ? `write an IPv6 address in brackets, [${text}]:53` : form;
  const [, hostPart, bracketed, portText] = match;
  const portNumber = portText === undefined ? 53 : Number(portText);
  if (portNumber < 1 || portNumber > 65535 || (portText !== undefined && /^0/.test(portText)))
    return 'the port is a number from 1 to 65535';
  if (bracketed !== undefined) {
    if (parseIpAddress(bracketed)?.version !== 6) return `${form}: brackets hold an IPv6 address`;
    return { host: bracketed, port: portNumber };
  }
  if (parseIpAddress(hostPart)?.version === 4 || (hostPart.length <= dnsNameChars && dnsName(hostPart)))
    return { host: hostPart, port: portNumber };
  return form;
}

/** Nameservers, each once: `host:port` or `[IPv6]:port`. */
const nameserversField = () =>
  z
    .array(nameserverField())
    .min(1, 'give at least one nameserver, such as 127.0.0.1:5354')
    .max(trafficLimits.nameservers, `at most ${trafficLimits.nameservers} nameservers`)
    .superRefine((servers, ctx) => {
      const seen = new Set<string>();
      servers.forEach(({ host, port: p }, i) => {
        const key = `${parseIpAddress(host) ? ipKey(parseIpAddress(host)!) : host}:${p}`;
        if (seen.has(key))
          ctx.addIssue({ code: 'custom', path: [i], message: 'listed twice: list each nameserver once' });
        seen.add(key);
      });
    });

const envName = z
  .string()
  .max(128, 'at most 128 characters')
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as MERIDIAN_POWERDNS_API_KEY');

const secretRefSchema = z
  .strictObject({
    name: z
      .string()
      .max(253)
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'expected the name of a Secret, such as powerdns-api'),
    key: z
      .string()
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'expected a key of the Secret, such as api-key'),
    namespace: dnsLabel.optional().describe("The Secret's namespace (default: the worker's)"),
    context: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'expected a kubeconfig context name')
      .optional()
      .describe("Kubeconfig context of the cluster holding the Secret (default: the worker's current one)"),
  })
  .describe('A Kubernetes Secret holding the key, read by the worker');

const apiKeyRefSchema = z
  .strictObject({
    env: envName.optional().describe("An environment variable of the worker's holding the key"),
    secret: secretRefSchema.optional(),
  })
  .transform((ref, ctx): { env: string } | { secret: z.infer<typeof secretRefSchema> } => {
    if (ref.env !== undefined && ref.secret === undefined) return { env: ref.env };
    if (ref.secret !== undefined && ref.env === undefined) return { secret: ref.secret };
    ctx.addIssue({
      code: 'custom',
      message: `give exactly one of env or secret, such as { env: MERIDIAN_POWERDNS_API_KEY }${ref.env !== undefined ? ', not both' : ''}`,
    });
    return z.NEVER;
  });

/** A key written into the spec is refused before anything could print it: never quoted, never parsed. */
function refuseLiteralKey(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof raw === 'string' || typeof raw === 'number') {
    ctx.addIssue({
      code: 'custom',
      message:
        'API keys never go in the spec (it travels in workflow history): remove it, rotate it if it was committed, and give { env: MERIDIAN_POWERDNS_API_KEY } or { secret: { name, key } }',
    });
    return z.NEVER;
  }
  return raw;
}

const powerDnsSchema = z
  .strictObject({
    api: apiUrlField('http://127.0.0.1:8281', 'remove user:pass@ and give the key in apiKey').describe(
      'Base http(s) URL of the PowerDNS HTTP API, without credentials',
    ),
    server: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a PowerDNS server id such as localhost')
      .default('localhost')
      .describe('PowerDNS server id in the API'),
    nameservers: nameserversField().describe(
      'Where Meridian sends DNS queries to see what clients are answered: host:port or [IPv6]:port',
    ),
    apiKey: z
      .preprocess(refuseLiteralKey, apiKeyRefSchema)
      .describe(
        'Where the worker finds the API key: { env: NAME } or { secret: { name, key, namespace?, context? } }; never the key itself',
      ),
  })
  .describe('PowerDNS with its HTTP API; LUA records answer each client');

/** Keys under which AWS credentials might be written into the spec (compared without case, - and _). */
const awsCredentialKeys = new Set([
  'accesskeyid',
  'accesskey',
  'secretaccesskey',
  'secretkey',
  'secret',
  'sessiontoken',
  'token',
  'credentials',
  'password',
  'awsaccesskeyid',
  'awssecretaccesskey',
  'awssessiontoken',
]);

/**
 * AWS credentials written into the spec are refused before anything could print them (never quoted,
 * never parsed), and dropped so that the strict object does not report them again as unknown fields.
 */
function refuseAwsCredentials(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const found = Object.keys(raw).filter((key) => awsCredentialKeys.has(key.toLowerCase().replace(/[-_]/g, '')));
  if (found.length === 0) return raw;
  for (const key of found)
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message:
        'AWS credentials never go in the spec (it travels in workflow history): remove it, rotate the key if it was committed, and give the worker credentials through the AWS default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment, AWS_PROFILE, or the role of its instance or pod)',
    });
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !found.includes(key)));
}

const awsRegionField = () =>
  z
    .string()
    .max(32, 'expected an AWS region such as us-east-1')
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'expected an AWS region such as us-east-1');

const latencyRegionField = () =>
  z
    .string()
    .max(32, 'expected an AWS region such as us-east-1')
    .superRefine((name, ctx) => {
      if (!isAwsLatencyRegion(name))
        ctx.addIssue({
          code: 'custom',
          message: `${quoteExcerpt(name)} is not an AWS region a Route 53 latency record can name: give one such as us-east-1 or eu-west-1`,
        });
    });

const route53Schema = z
  .preprocess(
    refuseAwsCredentials,
    z.strictObject({
      hostedZoneId: z
        .string()
        .max(64, 'expected the id of a Route 53 hosted zone, such as Z0123456789ABCDEFGHIJ')
        .superRefine((id, ctx) => {
          if (/^[A-Z0-9]{1,32}$/.test(id)) return;
          ctx.addIssue({
            code: 'custom',
            message: /^\/hostedzone\/[A-Z0-9]{1,32}$/.test(id)
              ? `give the id without /hostedzone/: ${id.slice('/hostedzone/'.length)}`
              : 'expected the id of a Route 53 hosted zone, such as Z0123456789ABCDEFGHIJ (letters and digits)',
          });
        })
        .describe('Id of the public hosted zone holding spec.traffic.zone, e.g. Z0123456789ABCDEFGHIJ'),
      region: awsRegionField()
        .default('us-east-1')
        .describe('AWS region the API calls are signed for: Route 53 is global, so us-east-1 unless told otherwise'),
      endpoint: apiUrlField(
        'http://127.0.0.1:5000',
        "remove user:pass@; the worker's AWS credentials come from its default chain",
      )
        .optional()
        .describe('Another http(s) URL for the Route 53 API (an emulator or a VPC endpoint); without credentials'),
      nameservers: nameserversField()
        .optional()
        .describe(
          'Where Meridian asks DNS questions to see what clients are answered (host:port); without it, meridian traffic shows states and health only',
        ),
      latencyRegions: z
        .preprocess(
          refuseProtoKey,
          z.record(
            z.string().max(63, 'at most 63 characters: a region name of spec.traffic.regions'),
            latencyRegionField(),
            {
              error: 'expected a mapping of region names to AWS regions, such as { us-east-canary: us-east-2 }',
            },
          ),
        )
        .optional()
        .describe(
          "The AWS region of each region's latency record, by region name (default: the AWS region nearest its location)",
        ),
    }),
  )
  .describe(
    "Amazon Route 53: a latency record per region with health checks; credentials from the worker's AWS default chain, never the spec",
  );

/** Route 53 checks an address at one of these intervals (milliseconds), and at no other. */
export const route53CheckIntervals = [10_000, 30_000] as const;

/** The provider section, validated: exactly one DNS provider. */
export type TrafficProviderSpec =
  | { powerdns: z.infer<typeof powerDnsSchema>; route53?: undefined }
  | { route53: z.infer<typeof route53Schema>; powerdns?: undefined };

const providerSchema = z
  .strictObject({
    powerdns: powerDnsSchema.optional(),
    route53: route53Schema.optional(),
  })
  .transform((provider, ctx): TrafficProviderSpec => {
    if (provider.powerdns && provider.route53) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one DNS provider, powerdns or route53, not both' });
      return z.NEVER;
    }
    if (provider.powerdns) return { powerdns: provider.powerdns };
    if (provider.route53) return { route53: provider.route53 };
    ctx.addIssue({
      code: 'custom',
      message: 'give the DNS provider: powerdns: { api, nameservers, apiKey } or route53: { hostedZoneId }',
    });
    return z.NEVER;
  })
  .describe('The DNS service that answers the hostname, exactly one: powerdns or route53');

/** A ramp step: `N%` with 0 < N <= 100 (decimals allowed, such as 0.5%), parsed to a share of 0 to 1. */
const percentStep = () =>
  z.string({ error: "expected a share of the region's users as a percentage, such as 10%" }).transform((text, ctx) => {
    const refuse = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (!/^\d{1,12}(\.\d{1,12})?%$/.test(text))
      return refuse(
        `expected a share of the region's users as a percentage, such as 10% or 0.5%, got ${quoteExcerpt(text)}`,
      );
    const share = Number(text.slice(0, -1)) / 100;
    if (share <= 0 || share > 1)
      return refuse(`${text} is not a share of users: give more than 0% and at most 100%, such as 10%`);
    return share;
  });

const clientSchema = z.strictObject({
  name: dnsLabel.describe('Client name, unique, e.g. new-york'),
  subnet: subnetField().describe('The clients: an IPv4 or IPv6 subnet such as 198.18.1.0/24'),
  location: locationSchema,
});

export const trafficSchema = z
  .strictObject({
    hostname: dnsNameField().describe('The one name clients resolve, inside zone (or the zone itself)'),
    zone: dnsNameField().describe('The DNS zone holding hostname, e.g. example.test'),
    ttl: boundedDuration(second, '1s', day)
      .refine((ms) => ms < second || ms % second === 0, 'DNS counts TTLs in whole seconds: give one such as 5s')
      .describe("The answers' TTL, 1s to 1d; a drain waits one TTL"),
    provider: providerSchema,
    healthCheck: healthCheckSchema,
    duringDeploy: z
      .enum(['keep', 'drain'])
      .default('keep')
      .describe(
        "keep: the region keeps its users while it deploys; drain: they go to the next region's until it is up",
      ),
    ramp: z
      .array(percentStep())
      .min(1, 'give at least one step, such as [100%]')
      .max(trafficLimits.rampSteps, `at most ${trafficLimits.rampSteps} steps`)
      .superRefine((steps, ctx) => {
        steps.forEach((share, i) => {
          if (i > 0 && share <= steps[i - 1])
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `not more than the step before (${round(steps[i - 1] * 100)}%): each step gives more of the region's users, such as [10%, 50%, 100%]`,
            });
        });
      })
      .default([1])
      .describe("Shares of the region's own users it answers while it bakes, step by step, e.g. [10%, 50%, 100%]"),
    onRollback: z
      .enum(['drain', 'keep'])
      .default('drain')
      .describe('drain: a region rolled back loses its users until it is healthy again; keep: it keeps them'),
    regions: trafficRegionsSchema.describe(
      'Regions behind the hostname, by name from spec.regions; regions not listed are not behind it',
    ),
    clients: z
      .array(clientSchema)
      .max(trafficLimits.clients, `at most ${trafficLimits.clients} clients`)
      .default([])
      .describe("Client locations the traffic view reports on (and the rig's GeoIP database is made from)"),
  })
  .superRefine((traffic, ctx) => {
    const { hostname, zone } = traffic;
    if (hostname !== zone && !hostname.endsWith(`.${zone}`))
      ctx.addIssue({
        code: 'custom',
        path: ['hostname'],
        message: `${quoteExcerpt(hostname)} is not inside zone ${quoteExcerpt(zone)}: give a name ending in .${zone.length > 80 ? 'the zone' : zone}, or the zone that holds it`,
      });
    const owners = new Map<string, string>();
    for (const [name, region] of Object.entries(traffic.regions)) {
      region.addresses.forEach((text, i) => {
        const address = parseIpAddress(text);
        if (!address) return; // refused where it is written
        const key = ipKey(address);
        const owner = owners.get(key);
        if (owner !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['regions', name, 'addresses', i],
            message:
              owner === name
                ? `${text} is listed twice in this region: list each address once`
                : `${text} is also an address of region ${quoteExcerpt(owner)}: regions ${quoteExcerpt(owner)} and ${quoteExcerpt(name)} cannot share an address; give each its own`,
          });
        else owners.set(key, name);
      });
    }
    const clientNames = new Map<string, number>();
    const subnets: { subnet: IpSubnet; name: string }[] = [];
    traffic.clients.forEach((client, i) => {
      const earlier = clientNames.get(client.name);
      if (earlier !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'name'],
          message: `duplicate client name ${quoteExcerpt(client.name)} (also clients[${earlier}]): give each client its own name`,
        });
      else clientNames.set(client.name, i);
      const subnet = parseSubnet(client.subnet);
      if ('problem' in subnet) return; // refused where it is written
      const other = subnets.find((s) => subnetsOverlap(s.subnet, subnet));
      if (!other) subnets.push({ subnet, name: client.name });
      else
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'subnet'],
          message: `${formatSubnet(subnet)} overlaps ${formatSubnet(other.subnet)} of client ${quoteExcerpt(other.name)}: each address belongs to one client; give subnets that do not overlap`,
        });
    });
    if (traffic.provider.route53) route53Problems(traffic as TrafficSpec & Route53Provider, ctx);
  })
  .describe('One hostname for the world, steered by the release: DNS geo-routing and failover across regions');

function round(percent: number): number {
  return Math.round(percent * 1e6) / 1e6;
}

/**
 * What Route 53 cannot do of a valid traffic section: check at another interval than 10 or 30 s, bias a
 * region (latency records have no weight), keep two latency records in one AWS region, or hold the
 * per-region names beyond 253 characters.
 */
function route53Problems(traffic: TrafficSpec & Route53Provider, ctx: z.RefinementCtx): void {
  const { interval } = traffic.healthCheck;
  if (typeof interval === 'number' && !(route53CheckIntervals as readonly number[]).includes(interval))
    ctx.addIssue({
      code: 'custom',
      path: ['healthCheck', 'interval'],
      message: `Route 53 checks an address every 10s or 30s, at no other interval: give interval: 10s or 30s with provider route53, got ${formatDuration(interval)}`,
    });
  const names = Object.keys(traffic.regions);
  for (const name of names)
    if (traffic.regions[name].weight !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['regions', name, 'weight'],
        message:
          'Route 53 latency records cannot bias a region: remove weight (or give 1) with provider route53, or place the region with its location',
      });
  const given = traffic.provider.route53.latencyRegions ?? {};
  for (const name of Object.keys(given))
    if (!Object.hasOwn(traffic.regions, name))
      ctx.addIssue({
        code: 'custom',
        path: ['provider', 'route53', 'latencyRegions', name],
        message: `${quoteExcerpt(name)} is not a region of spec.traffic.regions: remove it, or name one of ${names
          .slice(0, 12)
          .map((n) => (n.length > 63 ? quoteExcerpt(n) : n))
          .join(', ')}${names.length > 12 ? ', …' : ''}`,
      });
  const owners = new Map<string, string>();
  for (const [name, awsRegion] of Object.entries(route53LatencyRegions(traffic))) {
    const owner = owners.get(awsRegion);
    if (owner === undefined) owners.set(awsRegion, name);
    else
      ctx.addIssue({
        code: 'custom',
        path: ['provider', 'route53', 'latencyRegions'],
        message: `regions ${quoteExcerpt(owner)} and ${quoteExcerpt(name)} would both answer from AWS region ${awsRegion}, and Route 53 keeps one latency record per AWS region: give each its own here, such as { ${name.length > 63 ? 'region' : name}: <another AWS region> }`,
      });
  }
  const longest = Math.max(...names.map((n) => n.length));
  const length = route53NameOverhead + longest + traffic.hostname.length;
  if (length > dnsNameChars)
    ctx.addIssue({
      code: 'custom',
      path: ['hostname'],
      message: `too long for Route 53's per-region records (_meridian.<region>.<hostname> is ${length} characters, DNS allows ${dnsNameChars}): give a shorter hostname or shorter region names`,
    });
}

/** Characters Route 53's per-region names add to the hostname and the region's name (`_meridian.` and a dot). */
const route53NameOverhead = '_meridian.'.length + 1;

/** The traffic section, validated: durations in milliseconds, ramp steps as shares (0 to 1), defaults filled in. */
export type TrafficSpec = z.infer<typeof trafficSchema>;
/** A traffic section answered by PowerDNS. */
export type PowerDnsTrafficSpec = TrafficSpec & { provider: { powerdns: z.infer<typeof powerDnsSchema> } };
/** The Route 53 provider's part of a traffic section. */
export type Route53ProviderSpec = z.infer<typeof route53Schema>;
type Route53Provider = { provider: { route53: Route53ProviderSpec } };

/** Whether PowerDNS answers the section's hostname. */
export function isPowerDnsTraffic(traffic: TrafficSpec): traffic is PowerDnsTrafficSpec {
  return traffic.provider.powerdns !== undefined;
}

/**
 * The AWS region of each region's Route 53 latency record: as spec.traffic.provider.route53.latencyRegions
 * says, else the AWS region nearest the region's location. In spec order.
 */
export function route53LatencyRegions(traffic: Pick<TrafficSpec, 'regions'> & Route53Provider): Record<string, string> {
  const given = traffic.provider.route53.latencyRegions ?? {};
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, region] of Object.entries(traffic.regions))
    out[name] = Object.hasOwn(given, name) ? given[name] : nearestAwsRegion(resolveLocation(region.location));
  return out;
}
/** A region behind the hostname. */
export type TrafficRegion = TrafficSpec['regions'][string];
/** A client population the traffic view reports on. */
export type TrafficClient = TrafficSpec['clients'][number];

/**
 * Problems of a traffic section against the spec's regions, as paths under spec.traffic: every region it
 * lists must be a production region of spec.regions (staging serves no users).
 */
export function trafficRegionProblems(
  traffic: TrafficSpec,
  regions: readonly { name: string; role: string }[],
): { path: (string | number)[]; message: string }[] {
  const production = [...new Set(regions.filter((r) => r.role !== 'staging').map((r) => r.name))];
  const staging = new Set(regions.filter((r) => r.role === 'staging').map((r) => r.name));
  return Object.keys(traffic.regions)
    .filter((name) => !prototypeKeys.includes(name) && !production.includes(name))
    .map((name) => ({
      path: ['regions', name],
      message: staging.has(name)
        ? `${quoteExcerpt(name)} is a staging region, which serves no users: remove it here`
        : `unknown region ${quoteExcerpt(name)}: name a production region of spec.regions: ${production.join(', ')}`,
    }));
}
