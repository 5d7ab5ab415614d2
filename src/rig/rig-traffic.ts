import { isIP } from 'node:net';
import { InvalidInputError } from '../domain/errors';
import { quoteExcerpt } from '../domain/excerpt';
import { resolveLocation, type TrafficSpec } from '../domain/traffic-spec';
import { loadRelease } from '../infra/release-files/release-file';

/** The zone the rig's DNS server holds when the release has no spec.traffic section. */
export const defaultRigZone = 'example.test';

/** A client network the rig's DNS server can locate: what tools/geoip-db writes into clients.mmdb. */
export interface GeoClient {
  name: string;
  /** CIDR network, e.g. 198.18.1.0/24 (benchmark addresses: they only travel inside EDNS Client Subnet). */
  subnet: string;
  latitude: number;
  longitude: number;
}

/** Where one region's demo service also answers: its traffic addresses, on the port its health check uses. */
export interface RegionTrafficAddresses {
  port: number;
  addresses: string[];
}

/** A region behind the hostname as the rig sees it: where it answers, and where it is (for the answers' order). */
export interface RigTrafficRegion extends RegionTrafficAddresses {
  latitude: number;
  longitude: number;
  /** spec.traffic.regions.<name>.weight: a region of weight 2 counts as half as far away. */
  weight: number;
}

/** What the rig serves of a release's spec.traffic. */
export interface RigTraffic {
  /** The hostname users resolve, without the trailing dot (shop.example.test). */
  hostname: string;
  /** The zone, without the trailing dot (example.test). */
  zone: string;
  /** The clients, located (spec.traffic.clients). */
  clients: GeoClient[];
  /** Each region's traffic addresses (loopback only) and place, by region name. */
  regions: Record<string, RigTrafficRegion>;
  /** Where the release tells Meridian its DNS server is, to compare with the rig's. */
  provider: { api: string; nameservers: { host: string; port: number }[] };
}

/** Whether an address is this machine's own: 127.0.0.0/8 or ::1. */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  if (isIP(address) === 6) return new URL(`http://[${address}]/`).hostname === '[::1]';
  return false;
}

/**
 * The rig's view of a (validated) traffic section. The rig adds one rule to the spec's own: traffic
 * addresses must be loopback, since the rig's demo services listen on them and its DNS server checks
 * them, and nothing of the rig may reach another machine.
 */
export function rigTraffic(traffic: TrafficSpec): RigTraffic {
  const { powerdns } = traffic.provider;
  if (!powerdns)
    throw new InvalidInputError(
      "spec.traffic.provider.route53: the local rig answers the hostname with its own PowerDNS, not Route 53: give provider powerdns to run this release's traffic on the rig (the Route 53 provider is tested against moto_server: docs/traffic-providers.md)",
    );
  const problems: string[] = [];
  const regions: Record<string, RigTrafficRegion> = {};
  for (const [name, region] of Object.entries(traffic.regions)) {
    region.addresses.forEach((address, i) => {
      if (!isLoopback(address))
        problems.push(
          `spec.traffic.regions.${name}.addresses[${i}]: the local rig serves loopback addresses only (127.0.0.0/8 or ::1), got ${quoteExcerpt(address)}: give one such as 127.0.1.1`,
        );
    });
    regions[name] = {
      port: region.healthCheck?.port ?? traffic.healthCheck.port,
      addresses: [...region.addresses],
      ...resolveLocation(region.location),
      weight: region.weight,
    };
  }
  if (problems.length) {
    throw new InvalidInputError(
      `the release's spec.traffic cannot run on the local rig${problems.length === 1 ? `: ${problems[0]}` : ''}`,
      problems.length === 1 ? [] : problems,
    );
  }
  return {
    hostname: traffic.hostname.replace(/\.$/, ''),
    zone: traffic.zone.replace(/\.$/, ''),
    clients: traffic.clients.map((c) => ({ name: c.name, subnet: c.subnet, ...resolveLocation(c.location) })),
    regions,
    provider: {
      api: powerdns.api,
      nameservers: powerdns.nameservers.map(({ host, port }) => ({ host, port })),
    },
  };
}

/** The rig's view of the release file's spec.traffic, or undefined when the release has none. */
export function rigTrafficFromRelease(file: string): RigTraffic | undefined {
  const { traffic } = loadRelease(file).spec.spec;
  return traffic ? rigTraffic(traffic) : undefined;
}

/**
 * Where the release's spec.traffic.provider points elsewhere than the rig's DNS server: Meridian would
 * steer (and read the answers of) another server than the one the rig runs. One line per difference.
 */
export function providerMismatches(
  traffic: RigTraffic,
  rig: { api: string; dns: { host: string; port: number } },
): string[] {
  const out: string[] = [];
  const origin = (url: string) => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  };
  if (origin(traffic.provider.api) !== origin(rig.api))
    out.push(
      `spec.traffic.provider.powerdns.api is ${traffic.provider.api}, but the rig's PowerDNS API is ${rig.api} (dns.apiPort)`,
    );
  if (!traffic.provider.nameservers.some((n) => n.host === rig.dns.host && n.port === rig.dns.port))
    out.push(
      `spec.traffic.provider.powerdns.nameservers does not list the rig's PowerDNS, ${rig.dns.host}:${rig.dns.port} (dns.port)`,
    );
  return out;
}
