import { createHash } from 'node:crypto';
import type { HealthCheckConfig, ResourceRecordSet, ResourceRecordSetRegion } from '@aws-sdk/client-route-53';
import {
  type AddressFamily,
  familyOf,
  type RegionHealth,
  type RegionTraffic,
  type SteeredRegion,
  servingOrder,
  stateOf,
} from '../../domain/traffic-policy';

/**
 * What Route 53 holds for one steered hostname, as pure functions of the regions and their states:
 *
 * - `<hostname>` A/AAAA: one latency record per region in the answers (SetIdentifier = region,
 *   Region = its AWS region), with the region's addresses and its health check. A drained region has
 *   none, so Route 53 answers its users with the next-lowest-latency region; if every region is drained,
 *   all are answered (a hostname that answers nothing is an outage, not a drain).
 * - `<region>._ramp.<hostname>`: a ramping region's latency record is an alias to this weighted pair,
 *   the region itself for its share and its next-closest region in service for the rest.
 * - `_meridian.<region>.<hostname>` TXT: the region's recorded state, as JSON.
 *
 * Health: one HTTP(S) health check per address, and per region and address family one calculated check
 * (healthy while any of its addresses is) that its records carry. Each check's CallerReference is derived
 * from what it checks, so a retried write finds the check it made instead of making another.
 */

/** The hostname's record types, by address family. */
export const recordType = { 4: 'A', 6: 'AAAA' } as const satisfies Record<AddressFamily, string>;

/** A weighted pair's total: Route 53 weighs records 0..255. */
export const rampTotalWeight = 255;

/**
 * Checks in a row an address must fail before Route 53 counts it down: one, as PowerDNS does, so a
 * region leaves the answers one check interval (10 or 30 s) after it fails, plus propagation.
 */
export const failureThreshold = 1;

/** The longest TXT value Route 53 takes for one record (its strings, quoted and escaped, together). */
export const maxTxtValueChars = 4000;

/** What the records need to know of the hostname: its regions in spec order, TTL and check interval. */
export interface Route53Target {
  hostname: string;
  ttlSeconds: number;
  healthIntervalSeconds: number;
  regions: SteeredRegion[];
}

export function stateRecordName(hostname: string, region: string): string {
  return `_meridian.${region}.${hostname}`;
}

export function rampRecordName(hostname: string, region: string): string {
  return `${region}._ramp.${hostname}`;
}

/** A DNS name as Route 53 compares it: lowercase, without the trailing dot. */
export function plainName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/** The health check of one address: its config and the CallerReference derived from it. */
export interface AddressCheck {
  region: string;
  address: string;
  callerReference: string;
  config: HealthCheckConfig;
}

/** What Route 53 checks for an address: the region's health URL for it, at the spec's interval. */
export function addressCheck(target: Route53Target, region: SteeredRegion, address: string): AddressCheck {
  const url = new URL(region.healthUrl(address));
  const https = url.protocol === 'https:';
  const config: HealthCheckConfig = {
    Type: https ? 'HTTPS' : 'HTTP',
    IPAddress: address,
    Port: url.port ? Number(url.port) : https ? 443 : 80,
    ResourcePath: `${url.pathname}${url.search}`,
    RequestInterval: target.healthIntervalSeconds,
    FailureThreshold: failureThreshold,
  };
  return { region: region.name, address, callerReference: reference(['address', target.hostname, config]), config };
}

/** Every address check of the hostname, region by region in spec order. */
export function addressChecks(target: Route53Target): AddressCheck[] {
  return target.regions.flatMap((region) => region.addresses.map((address) => addressCheck(target, region, address)));
}

/** The CallerReference of a region's calculated check over the given address checks (their references). */
export function regionCheckReference(
  hostname: string,
  region: string,
  family: AddressFamily,
  children: string[],
): string {
  return reference(['region', hostname, region, family, [...children].sort()]);
}

/** The calculated check of a region: healthy while one of its address checks is. */
export function regionCheckConfig(childIds: string[]): HealthCheckConfig {
  return { Type: 'CALCULATED', ChildHealthChecks: [...childIds].sort(), HealthThreshold: 1 };
}

/** A CallerReference (at most 64 characters) that is the same for the same check, and differs when any of it does. */
function reference(parts: unknown): string {
  return `meridian-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 48)}`;
}

/** What the answer records refer to: the zone (for aliases), each region's AWS region and its checks. */
export interface AnswerContext {
  /** The hosted zone's id, without /hostedzone/. */
  zoneId: string;
  /** The AWS region of each region's latency record. */
  latencyRegions: Readonly<Record<string, string>>;
  /** The id of a region's calculated health check for an address family. */
  regionCheck: (region: string, family: AddressFamily) => string;
}

/**
 * The answer records for every region's state: latency records at the hostname and the ramping regions'
 * weighted pairs, for each address family a region has. What the zone must hold, besides the states.
 */
export function answerRecordSets(
  target: Route53Target,
  states: Readonly<Record<string, RegionTraffic>>,
  context: AnswerContext,
): ResourceRecordSet[] {
  const out: ResourceRecordSet[] = [];
  for (const family of [4, 6] as AddressFamily[]) {
    const type = recordType[family];
    const entries = target.regions.filter((r) => r.addresses.some((a) => familyOf(a) === family));
    const everyDrained = entries.every((r) => stateOf(states, r.name).share <= 0);
    const share = (r: SteeredRegion) => (everyDrained ? 1 : stateOf(states, r.name).share);
    const values = (r: SteeredRegion) => r.addresses.filter((a) => familyOf(a) === family).map((a) => ({ Value: a }));
    const plain = (r: SteeredRegion, name: string, extra: Partial<ResourceRecordSet>): ResourceRecordSet => ({
      Name: name,
      Type: type,
      ...extra,
      TTL: target.ttlSeconds,
      ResourceRecords: values(r),
      HealthCheckId: context.regionCheck(r.name, family),
    });
    for (const region of entries) {
      const own = share(region);
      if (own <= 0) continue;
      const latency = {
        SetIdentifier: region.name,
        Region: context.latencyRegions[region.name] as ResourceRecordSetRegion,
      };
      const next = own < 1 ? fallbackOf(region, entries, states) : undefined;
      if (!next) {
        out.push(plain(region, target.hostname, latency));
        continue;
      }
      const rampName = rampRecordName(target.hostname, region.name);
      out.push({
        Name: target.hostname,
        Type: type,
        ...latency,
        AliasTarget: { HostedZoneId: context.zoneId, DNSName: rampName, EvaluateTargetHealth: true },
      });
      const weight = Math.min(rampTotalWeight - 1, Math.max(1, Math.round(own * rampTotalWeight)));
      out.push(plain(region, rampName, { SetIdentifier: `${region.name}/own`, Weight: weight }));
      out.push(plain(next, rampName, { SetIdentifier: `${region.name}/next`, Weight: rampTotalWeight - weight }));
    }
  }
  return out;
}

/**
 * Where a ramping region's other users go: the region closest to it that is in service, else the closest
 * one ramping too; none when every other region is drained (then the region answers all its users).
 */
function fallbackOf(
  region: SteeredRegion,
  entries: readonly SteeredRegion[],
  states: Readonly<Record<string, RegionTraffic>>,
): SteeredRegion | undefined {
  const order = servingOrder(entries, states, region).filter((c) => c.region !== region.name);
  const choice = order.find((c) => c.share >= 1) ?? order.find((c) => c.share > 0);
  return choice && entries.find((r) => r.name === choice.region);
}

/** Whether a record set of the zone is one of the hostname's answer records (latency or ramp), which Meridian owns. */
export function isAnswerRecord(hostname: string, record: ResourceRecordSet): boolean {
  if (record.Type !== 'A' && record.Type !== 'AAAA') return false;
  const name = plainName(record.Name ?? '');
  if (name === plainName(hostname)) return record.Region !== undefined && record.SetIdentifier !== undefined;
  return name.endsWith(`._ramp.${plainName(hostname)}`) && record.Weight !== undefined;
}

/** Whether two record sets say the same to Route 53 (names without case or trailing dot, values in any order). */
export function sameRecordSet(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  return JSON.stringify(comparable(a)) === JSON.stringify(comparable(b));
}

/** The key Route 53 identifies a record set by: name, type and set identifier. */
export function recordSetKey(record: ResourceRecordSet): string {
  return `${plainName(record.Name ?? '')} ${record.Type} ${record.SetIdentifier ?? ''}`;
}

function comparable(record: ResourceRecordSet): unknown[] {
  const alias = record.AliasTarget;
  return [
    recordSetKey(record),
    record.Region ?? null,
    record.Weight ?? null,
    record.TTL ?? null,
    (record.ResourceRecords ?? []).map((r) => r.Value ?? '').sort(),
    record.HealthCheckId ?? null,
    alias ? [alias.HostedZoneId, plainName(alias.DNSName ?? ''), alias.EvaluateTargetHealth] : null,
  ];
}

/**
 * A region's state as a TXT value: JSON in quoted strings of at most 255 characters. Only printable
 * ASCII goes in (other characters as JSON \u escapes, quotes and backslashes escaped as TXT wants), so
 * Route 53 stores it as written; a reason too long for one record is shortened to fit.
 */
export function encodeStateTxt(state: RegionTraffic): string {
  let reason = state.reason;
  for (;;) {
    const value = txtValue(asciiJson({ ...state, reason }));
    if (value.length <= maxTxtValueChars || reason.length === 0) return value;
    reason = `${[...reason].slice(0, Math.floor([...reason].length * 0.8)).join('')}…`.replace(/^…$/, '');
  }
}

/** JSON with every character outside printable ASCII written as a \u escape. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function txtValue(text: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 255) chunks.push(text.slice(i, i + 255));
  return (chunks.length ? chunks : ['']).map((c) => `"${c.replace(/[\\"]/g, (m) => `\\${m}`)}"`).join(' ');
}

/**
 * The text of a TXT value as Route 53 shows it: its quoted strings joined, with \" \\ and \DDD (three
 * octal digits, Route 53's escape) undone; undefined when it is not a sequence of quoted strings.
 */
export function decodeTxt(value: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < value.length) {
    if (value[i] === ' ') {
      i++;
      continue;
    }
    if (value[i] !== '"') return undefined;
    i++;
    for (;;) {
      if (i >= value.length) return undefined;
      const c = value[i];
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const digits = /^[0-7]{3}/.exec(value.slice(i + 1, i + 4));
        if (digits) {
          out += String.fromCharCode(parseInt(digits[0], 8));
          i += 4;
        } else if (i + 1 < value.length) {
          out += value[i + 1];
          i += 2;
        } else return undefined;
        continue;
      }
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * One address's health from its checkers' last reports: Route 53 counts an endpoint healthy when more
 * than 18% of its checkers report it healthy (a report saying "Success"). No report: down.
 */
export function healthFromObservations(statuses: readonly (string | undefined)[]): RegionHealth {
  if (statuses.length === 0) return 'down';
  const healthy = statuses.filter((s) => s?.startsWith('Success')).length;
  return healthy / statuses.length > 0.18 ? 'up' : 'down';
}
