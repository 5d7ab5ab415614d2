import { InvalidInputError, UnreachableError } from '../../domain/errors';
import {
  type AddressFamily,
  answerProgram,
  familyOf,
  healthFromAnswer,
  healthProgram,
  healthRecordName,
  type RegionHealth,
  type RegionTraffic,
} from '../../domain/traffic-policy';
import { recordedTrafficSchema } from '../../domain/traffic-state';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryDns } from './dns-query';
import { PowerDnsApi, type PowerDnsEndpoint, type RRSetChange, type ZoneRRSet } from './powerdns-api';
import type { SteeringTarget, TrafficProvider } from './traffic-provider';

/** Rounds of "write the answers, read the states again" before concurrent writers count as a fault. */
const maxConvergeRounds = 6;

/**
 * Traffic steering on PowerDNS Authoritative (4.7 and later): the hostname is a LUA record whose
 * program orders the regions by distance from the client and answers with the first healthy one
 * (ifurlextup: the server checks each address's health URL itself, every lua-health-checks-interval).
 * Each region's state lives in the zone's metadata (kind `X-MERIDIAN-TRAFFIC.<hostname>.<region>`),
 * one kind per region, so regions deploying in parallel never overwrite each other's state; the
 * answers are derived from all of them, and every writer reads the states again after writing the
 * answers until what it wrote matches what it read, so the last writer leaves the answers right.
 */
export class PowerDnsTraffic implements TrafficProvider {
  readonly kind = 'powerdns';
  private readonly api: PowerDnsApi;

  constructor(
    private readonly target: SteeringTarget,
    endpoint: PowerDnsEndpoint,
  ) {
    this.api = new PowerDnsApi(endpoint);
  }

  async preflight(): Promise<void> {
    const config = await this.api.config();
    const where = 'the PowerDNS server';
    const launch = (config.get('launch') ?? '').split(',').map((b) => b.trim().split(':')[0]);
    if (config.get('enable-lua-records') !== 'yes') {
      const metadata = await this.api.metadata(this.target.zone);
      if (metadata.get('ENABLE-LUA-RECORDS')?.[0] !== '1')
        throw new InvalidInputError(
          `${where} does not run LUA records: set enable-lua-records=yes (or the zone's ENABLE-LUA-RECORDS metadata to 1)`,
        );
    }
    if (!launch.includes('geoip'))
      throw new InvalidInputError(
        `${where} cannot locate clients: add the geoip backend to launch= with a City database (geoip-database-files=mmdb:...)`,
      );
    const interval = Number(config.get('lua-health-checks-interval') ?? '5');
    if (interval > this.target.healthIntervalSeconds)
      throw new InvalidInputError(
        `${where} checks health every ${interval}s but spec.traffic.healthCheck.interval is ${this.target.healthIntervalSeconds}s: set lua-health-checks-interval=${this.target.healthIntervalSeconds} on the server, or a longer interval in the spec`,
      );
    if (!(await this.api.zone(this.target.zone)))
      throw new InvalidInputError(
        `${where} has no zone ${this.target.zone}: create it (pdnsutil create-zone ${this.target.zone}) or fix spec.traffic.zone`,
      );
  }

  async states(): Promise<Record<string, RegionTraffic>> {
    const metadata = await this.api.metadata(this.target.zone);
    const out: Record<string, RegionTraffic> = Object.create(null) as Record<string, RegionTraffic>;
    for (const region of this.target.regions) {
      const values = metadata.get(this.kindOf(region.name));
      if (!values?.[0]) continue;
      out[region.name] = this.parseState(region.name, values[0]);
    }
    return out;
  }

  async setRegion(region: string, traffic: RegionTraffic): Promise<RegionTraffic | undefined> {
    if (!this.target.regions.some((r) => r.name === region))
      throw new InvalidInputError(
        `region ${JSON.stringify(region.slice(0, 64))} is not behind ${this.target.hostname}: spec.traffic.regions lists ${this.target.regions.map((r) => r.name).join(', ')}`,
      );
    const value = JSON.stringify(recordedTrafficSchema.parse(traffic));
    const current = (await this.api.metadata(this.target.zone)).get(this.kindOf(region));
    // A state this provider cannot read is overwritten: the previous state is then unknown.
    const previous = current?.[0] ? this.tryParseState(region, current[0]) : undefined;
    if (current?.[0] !== value) await this.api.putMetadata(this.target.zone, this.kindOf(region), [value]);
    await this.converge(
      `${region} ${traffic.mode}${traffic.mode === 'ramp' ? ` ${percent(traffic.share)}` : ''} by ${traffic.by}: ${traffic.reason}`,
    );
    return previous;
  }

  private tryParseState(region: string, value: string): RegionTraffic | undefined {
    try {
      return this.parseState(region, value);
    } catch {
      return undefined;
    }
  }

  /** Writes the answers for the states as they are now (a new spec's regions, addresses or health checks). */
  async publish(note: string): Promise<void> {
    await this.converge(note);
  }

  /**
   * Each region's health as the server's checker sees it. PowerDNS counts an address it has not checked
   * yet as down (it starts checking at the first question), so a region that reads down is asked again
   * once one check has had time to run.
   */
  async health(): Promise<Record<string, RegionHealth>> {
    const first = await this.askHealth(this.target.regions.map((r) => r.name));
    const down = Object.keys(first).filter((r) => first[r] === 'down');
    if (down.length === 0) return first;
    await sleep((this.target.healthIntervalSeconds + this.target.healthTimeoutSeconds) * 1000 + 200);
    return Object.assign(first, await this.askHealth(down));
  }

  private async askHealth(names: string[]): Promise<Record<string, RegionHealth>> {
    const server = this.target.nameservers[0];
    const out: Record<string, RegionHealth> = Object.create(null) as Record<string, RegionHealth>;
    await Promise.all(
      this.target.regions
        .filter((r) => names.includes(r.name))
        .map(async (region) => {
          const type = region.addresses.some((a) => familyOf(a) === 4) ? 'A' : 'AAAA';
          const answer = await queryDns(server, { name: healthRecordName(this.target.hostname, region.name), type });
          if (answer.rcode !== 'NOERROR')
            throw new UnreachableError(
              `${this.target.hostname}: the health record of ${region.name} answered ${answer.rcode}: publish the answers first (meridian traffic restore ${region.name} --reason ..., or a release)`,
            );
          out[region.name] = healthFromAnswer(answer.addresses);
        }),
    );
    return out;
  }

  /**
   * Asks each record once so the server starts checking every address now: PowerDNS counts an address
   * as down until its first check, so the first answers after a write would otherwise skip regions.
   */
  async warmUp(): Promise<void> {
    const server = this.target.nameservers[0];
    const names = [
      this.target.hostname,
      ...this.target.regions.map((r) => healthRecordName(this.target.hostname, r.name)),
    ];
    await Promise.all(names.map((name) => queryDns(server, { name }).catch(() => undefined)));
  }

  private async converge(note: string): Promise<void> {
    for (let round = 0; round < maxConvergeRounds; round++) {
      const states = await this.states();
      const zone = await this.api.zone(this.target.zone);
      if (!zone)
        throw new InvalidInputError(
          `the PowerDNS server has no zone ${this.target.zone}: create it (pdnsutil create-zone ${this.target.zone}) or fix spec.traffic.zone`,
        );
      const changes = this.rrsetsFor(states, note).filter((change) => !sameRRSet(change, zone.rrsets));
      if (changes.length > 0) await this.api.patchRRSets(this.target.zone, changes);
      const after = await this.states();
      if (JSON.stringify(after) === JSON.stringify(states)) {
        await this.warmUp();
        return;
      }
    }
    throw new UnreachableError(
      `${this.target.hostname}: region states kept changing while the answers were written (${maxConvergeRounds} rounds); try again`,
    );
  }

  private rrsetsFor(states: Record<string, RegionTraffic>, note: string): RRSetChange[] {
    const timing = { timeoutSeconds: this.target.healthTimeoutSeconds };
    const comment = [{ content: `managed by Meridian; last change: ${note}`.slice(0, 500), account: 'meridian' }];
    const records = ([4, 6] as AddressFamily[]).flatMap((family) => {
      const program = answerProgram(this.target.regions, states, family, timing);
      return program ? [{ content: luaRecord(family, program), disabled: false }] : [];
    });
    const changes: RRSetChange[] = [
      {
        name: fqdn(this.target.hostname),
        type: 'LUA',
        ttl: this.target.ttlSeconds,
        changetype: 'REPLACE',
        records,
        comments: comment,
      },
    ];
    for (const region of this.target.regions) {
      const families = [...new Set(region.addresses.map(familyOf))].sort();
      changes.push({
        name: fqdn(healthRecordName(this.target.hostname, region.name)),
        type: 'LUA',
        ttl: 1,
        changetype: 'REPLACE',
        records: families.map((family) => ({
          content: luaRecord(family, healthProgram(region, family, timing)),
          disabled: false,
        })),
      });
    }
    return changes;
  }

  private kindOf(region: string): string {
    return `X-MERIDIAN-TRAFFIC.${this.target.hostname}.${region}`;
  }

  private parseState(region: string, value: string): RegionTraffic {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    const result = recordedTrafficSchema.safeParse(parsed);
    if (!result.success)
      throw new InvalidInputError(
        `zone ${this.target.zone} metadata ${this.kindOf(region)} is not a traffic state Meridian wrote: restore the region (meridian traffic restore ${region}) to rewrite it`,
      );
    return result.data;
  }
}

function luaRecord(family: AddressFamily, program: string): string {
  return `${family === 4 ? 'A' : 'AAAA'} "${program.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function sameRRSet(change: RRSetChange, existing: readonly ZoneRRSet[]): boolean {
  const found = existing.find((r) => r.name === change.name && r.type === change.type);
  if (!found || found.ttl !== change.ttl) return false;
  const contents = (records: ReadonlyArray<{ content: string }>) => records.map((r) => r.content).sort();
  return JSON.stringify(contents(found.records)) === JSON.stringify(contents(change.records ?? []));
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
