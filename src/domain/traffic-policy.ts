/**
 * Where a hostname's users go: the closest healthy region that is in service, regions ramping back
 * answering for a share of their users, drained regions for none. This module holds the policy and
 * writes it as the program a DNS server runs per query (PowerDNS LUA records), so failover does not
 * wait for Meridian: the server checks each region's health itself and answers around a failed one.
 */

/** How a region takes part in the answers. */
export const trafficModes = ['in', 'ramp', 'drained'] as const;
export type TrafficMode = (typeof trafficModes)[number];

/** A region's recorded traffic state: what was decided, by whom and why. */
export interface RegionTraffic {
  mode: TrafficMode;
  /** The share of the region's own users it answers for: 1 in service, 0 drained, between while ramping. */
  share: number;
  /** Who decided: an operator's name, or the release (`release shop-api@2.4.0`). */
  by: string;
  reason: string;
  /** When, as an ISO 8601 time. */
  at: string;
  /** The release that drained or ramped the region, when a release did. */
  release?: string;
}

/** A region as the answers see it: where its traffic goes and where it is. */
export interface SteeredRegion {
  name: string;
  /** IPv4 and IPv6 addresses its traffic goes to. */
  addresses: string[];
  latitude: number;
  longitude: number;
  /** A bias: a region of weight 2 counts as half as far away. */
  weight: number;
  /** The URL the DNS server checks for one of the region's addresses. */
  healthUrl: (address: string) => string;
}

export interface HealthCheckTiming {
  /** Seconds the DNS server waits for one check. */
  timeoutSeconds: number;
}

/** A region nobody recorded a state for is in service. */
export const inService: RegionTraffic = { mode: 'in', share: 1, by: 'default', reason: 'never drained', at: '' };

export function stateOf(states: Readonly<Record<string, RegionTraffic>>, region: string): RegionTraffic {
  return Object.hasOwn(states, region) ? states[region] : inService;
}

/** A region's own users, ramping: mode and share in one step so they never disagree. */
export function trafficAt(share: number, note: Omit<RegionTraffic, 'mode' | 'share'>): RegionTraffic {
  if (!Number.isFinite(share) || share < 0 || share > 1) throw new RangeError(`a traffic share is 0..1, got ${share}`);
  const mode: TrafficMode = share >= 1 ? 'in' : share <= 0 ? 'drained' : 'ramp';
  return { mode, share: mode === 'in' ? 1 : mode === 'drained' ? 0 : share, ...note };
}

export type AddressFamily = 4 | 6;

export function familyOf(address: string): AddressFamily {
  return address.includes(':') ? 6 : 4;
}

/**
 * An address that stands for "this region is down" in a health record: a documentation address
 * (RFC 5737, RFC 3849) no client is ever sent to, since only health records carry it.
 */
export const downMarker: Record<AddressFamily, string> = { 4: '192.0.2.1', 6: '2001:db8::1' };

/** The name of the record that reports a region's health as the DNS server sees it. */
export function healthRecordName(hostname: string, region: string): string {
  return `${region}._health.${hostname}`;
}

/**
 * The program answering the hostname's A (family 4) or AAAA (family 6) questions: per query it orders
 * the regions by distance from the client (EDNS Client Subnet, else the resolver; divided by weight),
 * leaves drained regions out and keeps a ramping one with the probability of its share, and answers
 * with the first region in that order that has a healthy address. A client the server cannot locate
 * gets the regions by weight, in spec order on ties. Undefined when no region has an address of the
 * family. If every region is drained, the answers fall back to all of them: a hostname that answers
 * nothing is an outage, not a drain.
 */
export function answerProgram(
  regions: readonly SteeredRegion[],
  states: Readonly<Record<string, RegionTraffic>>,
  family: AddressFamily,
  timing: HealthCheckTiming,
): string | undefined {
  const entries = regions
    .map((region, index) => ({ region, index, addresses: region.addresses.filter((a) => familyOf(a) === family) }))
    .filter((e) => e.addresses.length > 0);
  if (entries.length === 0) return undefined;
  const table = entries
    .map(({ region, index, addresses }) => {
      const share = stateOf(states, region.name).share;
      return (
        `{n=${luaString(region.name)},i=${index},lat=${luaNumber(region.latitude)},lon=${luaNumber(region.longitude)},` +
        `w=${luaNumber(region.weight)},s=${luaNumber(share)},g=${healthGroup(region, addresses)}}`
      );
    })
    .join(',');
  // Per-query work stays small (PowerDNS counts Lua instructions per record: lua-records-exec-limit).
  return [
    `;local rs={${table}}`,
    `local la,lo=string.match(latlon(),'^(%S+) (%S+)$') la=tonumber(la) lo=tonumber(lo)`,
    `local known=la~=nil and not (la==0 and lo==0)`,
    `local function far(x) if not known then return 1/x.w end`,
    `local a=math.sin(math.rad(x.lat-la)/2)^2+math.cos(math.rad(la))*math.cos(math.rad(x.lat))*math.sin(math.rad(x.lon-lo)/2)^2`,
    `return 2*math.asin(math.min(1,math.sqrt(a)))/x.w end`,
    `for _,x in ipairs(rs) do x.d=far(x) end`,
    `table.sort(rs,function(a,b) if a.d==b.d then return a.i<b.i end return a.d<b.d end)`,
    `local gs={}`,
    `for _,x in ipairs(rs) do if x.s>=1 or (x.s>0 and pickwrandom({{math.floor(x.s*10000+0.5),'y'},{math.floor((1-x.s)*10000+0.5),'n'}})=='y') then table.insert(gs,x.g) end end`,
    `if #gs==0 then for _,x in ipairs(rs) do table.insert(gs,x.g) end end`,
    `return ifurlextup(gs,${checkOptions(timing)})`,
  ].join(' ');
}

/**
 * The program of a region's health record: the region's healthy addresses, or, when none is healthy
 * (or the server has not checked yet), all of them plus the down marker. The same URLs as the answers,
 * so the DNS server runs one check per address for both.
 */
export function healthProgram(region: SteeredRegion, family: AddressFamily, timing: HealthCheckTiming): string {
  const addresses = region.addresses.filter((a) => familyOf(a) === family);
  const marker = `{[${luaString(downMarker[family])}]=${luaString(region.healthUrl(addresses[0]))}}`;
  return `ifurlextup({${healthGroup(region, addresses)},${marker}},${checkOptions(timing)})`;
}

/** Health as a region's health record answers it. */
export type RegionHealth = 'up' | 'down';

export function healthFromAnswer(addresses: readonly string[]): RegionHealth {
  return addresses.some((a) => a === downMarker[4] || a === downMarker[6]) || addresses.length === 0 ? 'down' : 'up';
}

/** A place on Earth, in degrees. */
export interface Coordinates {
  latitude: number;
  longitude: number;
}

/** One region in a client's order, with the share of that client's queries it answers when healthy. */
export interface ServingChoice {
  region: string;
  share: number;
}

/**
 * The order the answer program puts regions in for a client at `client` (undefined: not located),
 * the same rule in TypeScript, so that the traffic view can say who should answer and why.
 */
export function servingOrder(
  regions: readonly SteeredRegion[],
  states: Readonly<Record<string, RegionTraffic>>,
  client: Coordinates | undefined,
): ServingChoice[] {
  const far = (r: SteeredRegion) => (client ? greatCircle(client, r) / r.weight : 1 / r.weight);
  return regions
    .map((region, index) => ({ region, index, distance: far(region) }))
    .sort((a, b) => (a.distance === b.distance ? a.index - b.index : a.distance - b.distance))
    .map(({ region }) => ({ region: region.name, share: stateOf(states, region.name).share }));
}

/** Central angle between two places, in radians (haversine). */
export function greatCircle(a: Coordinates, b: Coordinates): number {
  const rad = (deg: number) => (deg * Math.PI) / 180;
  const h =
    Math.sin(rad(b.latitude - a.latitude) / 2) ** 2 +
    Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(rad(b.longitude - a.longitude) / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The options of every check, the same in the answers and the health records: PowerDNS keeps one
 * checker per URL and options, so the health records (asked after every write) keep each region's
 * checks running, also while the answers leave it out (drained). A region coming back is then answered
 * as soon as it is healthy, not one interval later (an address PowerDNS has not checked yet counts as
 * down). `all`: every healthy address of the chosen region, and every address when none is healthy.
 */
function checkOptions(timing: HealthCheckTiming): string {
  return `{selector='all',backupSelector='all',timeout=${luaNumber(timing.timeoutSeconds)}}`;
}

function healthGroup(region: SteeredRegion, addresses: readonly string[]): string {
  return `{${addresses.map((a) => `[${luaString(a)}]=${luaString(region.healthUrl(a))}`).join(',')}}`;
}

/** A Lua string literal holding `text` exactly: quotes, backslashes and every control character escaped. */
export function luaString(text: string): string {
  let out = "'";
  for (const byte of new TextEncoder().encode(text)) {
    if (byte === 0x27 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}'`;
}

function luaNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return String(value);
}
