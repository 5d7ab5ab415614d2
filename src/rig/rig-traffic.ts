import { isIP } from 'node:net';
import { InvalidInputError } from '../domain/errors';
import { loadRelease } from '../infra/release-files/release-file';

/** The zone the rig's DNS server holds when the release names none (no spec.traffic section). */
export const defaultRigZone = 'example.test';

/** A client network the rig's DNS server can locate: what tools/geoip-db writes into clients.mmdb. */
export interface GeoClient {
  name: string;
  /** CIDR network, e.g. 198.18.1.0/24 (benchmark addresses: they only travel inside EDNS Client Subnet). */
  subnet: string;
  latitude: number;
  longitude: number;
}

/** What the rig serves of a release's spec.traffic: the zone, the located clients, each region's traffic addresses. */
export interface RigTraffic {
  /** The zone, without the trailing dot (example.test). */
  zone: string;
  clients: GeoClient[];
  /** The one port every region's traffic addresses listen on (spec.traffic.healthCheck.port); none without a health check. */
  port?: number;
  /** Each region's traffic addresses (loopback only), by region name. */
  addresses: Record<string, string[]>;
}

/** The parts of spec.traffic the rig reads. */
export interface TrafficSection {
  zone: string;
  clients?: readonly { name: string; subnet: string; location: unknown }[];
  regions?: Readonly<Record<string, { addresses: readonly string[] }>>;
  healthCheck?: { port: number };
}

/** Whether an address is this machine's own: 127.0.0.0/8 or ::1. */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  if (isIP(address) === 6) return new URL(`http://[${address}]/`).hostname === '[::1]';
  return false;
}

/** A location given as coordinates. */
function coordinates(location: unknown, where: string): { latitude: number; longitude: number } {
  const l = location as { latitude?: unknown; longitude?: unknown } | null;
  if (l && typeof l === 'object' && typeof l.latitude === 'number' && typeof l.longitude === 'number') {
    return { latitude: l.latitude, longitude: l.longitude };
  }
  throw new InvalidInputError(`${where}: expected a location with latitude and longitude`);
}

/**
 * The rig's view of a traffic section: checks what the rig adds to the spec's own rules. Traffic
 * addresses must be loopback (the rig's demo services listen on them and its DNS server checks them;
 * nothing of the rig may reach another machine), each address belongs to one region, and every region
 * named exists in the release.
 */
export function rigTraffic(
  traffic: TrafficSection,
  regions: readonly string[],
  resolve: (location: unknown, where: string) => { latitude: number; longitude: number } = coordinates,
): RigTraffic {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  const addresses: Record<string, string[]> = {};
  for (const [name, region] of Object.entries(traffic.regions ?? {})) {
    const where = `spec.traffic.regions.${name}`;
    if (!regions.includes(name)) problems.push(`${where}: no region of that name in spec.regions`);
    region.addresses.forEach((address, i) => {
      if (!isLoopback(address)) {
        problems.push(
          `${where}.addresses[${i}]: the local rig serves loopback addresses only (127.0.0.0/8 or ::1), got ${JSON.stringify(address.slice(0, 60))}: use one such as 127.0.1.1`,
        );
      } else if (owner.has(address) && owner.get(address) !== name) {
        problems.push(`${where}.addresses[${i}]: ${address} is already an address of ${owner.get(address)}`);
      } else {
        owner.set(address, name);
      }
    });
    addresses[name] = [...region.addresses];
  }
  const clients = (traffic.clients ?? []).map((client, i) => ({
    name: client.name,
    subnet: client.subnet,
    ...resolve(client.location, `spec.traffic.clients[${i}].location`),
  }));
  if (problems.length) {
    throw new InvalidInputError(
      `the release's spec.traffic cannot run on the local rig${problems.length === 1 ? `: ${problems[0]}` : ''}`,
      problems.length === 1 ? [] : problems,
    );
  }
  return {
    zone: traffic.zone.replace(/\.$/, ''),
    clients,
    port: traffic.healthCheck?.port,
    addresses,
  };
}

/** The rig's view of the release file's spec.traffic, or undefined when the release has none. */
export function rigTrafficFromRelease(file: string): RigTraffic | undefined {
  const { spec } = loadRelease(file);
  const traffic = (spec.spec as { traffic?: TrafficSection }).traffic;
  if (!traffic) return undefined;
  return rigTraffic(
    traffic,
    spec.spec.regions.map((r) => r.name),
  );
}
