import {
  type Change,
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  GetHostedZoneCommand,
  type HealthCheck,
  type HealthCheckConfig,
  ListHealthChecksCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidInputError, UnreachableError } from '../../domain/errors';
import { type AddressFamily, familyOf, type RegionHealth, type RegionTraffic } from '../../domain/traffic-policy';
import { recordedTrafficSchema } from '../../domain/traffic-state';
import {
  addressChecks,
  answerRecordSets,
  decodeTxt,
  encodeStateTxt,
  healthFromObservations,
  isAnswerRecord,
  plainName,
  recordSetKey,
  regionCheckConfig,
  regionCheckReference,
  sameRecordSet,
  stateRecordName,
} from './route53-records';
import type { SteeringTarget, TrafficProvider } from './traffic-provider';

/** Where the Route 53 API is and who the worker is to it. */
export interface Route53Endpoint {
  /** The public hosted zone holding the hostname, without /hostedzone/. */
  hostedZoneId: string;
  /** The AWS region requests are signed for (Route 53 is global: us-east-1). */
  region: string;
  /** Another URL for the API (an emulator, a VPC endpoint); the SDK's default otherwise. */
  endpoint?: string;
  /**
   * Credentials from the worker's environment (AWS_ACCESS_KEY_ID...); undefined: the SDK's default chain
   * (profile, web identity, container or instance role). Never logged, never part of an error message.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The profile of the shared config files to use (AWS_PROFILE of the worker's environment). */
  profile?: string;
  /** The AWS region of each region's latency record. */
  latencyRegions: Readonly<Record<string, string>>;
  /** How long one request may take; default 10 s. */
  timeoutMs?: number;
  /** Attempts of one request: throttling, 5xx and network errors are asked again with jittered backoff. Default 4. */
  maxAttempts?: number;
  /** How long a write may take to reach Route 53's DNS servers (GetChange INSYNC); default 60 s. */
  insyncTimeoutMs?: number;
}

/** Rounds of "read the zone, write what the states say" before concurrent writers count as a fault. */
const maxConvergeRounds = 6;

/** The most record sets of a zone read: a zone of thousands fits many times over. */
const maxZoneRecordSets = 50_000;

/** Route 53 errors that mean the worker's credentials were refused, whatever the HTTP status. */
const credentialErrors = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);

/**
 * Traffic steering on Amazon Route 53: a latency record per region at the hostname, a ramping region's
 * record an alias to a weighted pair, a drained region without one (route53-records.ts has the layout).
 * Route 53 checks each address itself (one HTTP(S) health check per address, one calculated check per
 * region), so failover does not wait for Meridian. Each region's state is its own TXT record, so regions
 * written at once never overwrite each other's state; every writer reads the zone again after writing the
 * answers until they match the states it reads, so the last writer leaves the answers right.
 */
export class Route53Traffic implements TrafficProvider {
  readonly kind = 'route53';
  private readonly client: Route53Client;
  private readonly where: string;
  /** Calculated checks by region and family, once made (a provider lives for one activity or command). */
  private regionChecks: Map<string, string> | undefined;

  constructor(
    private readonly target: SteeringTarget,
    private readonly endpoint: Route53Endpoint,
  ) {
    this.where = `Route 53${endpoint.endpoint ? ` at ${endpoint.endpoint}` : ''}`;
    const timeout = endpoint.timeoutMs ?? 10_000;
    this.client = new Route53Client({
      region: endpoint.region,
      ...(endpoint.endpoint ? { endpoint: endpoint.endpoint } : {}),
      ...(endpoint.credentials ? { credentials: endpoint.credentials } : {}),
      ...(endpoint.profile && !endpoint.credentials ? { profile: endpoint.profile } : {}),
      // The SDK's standard retries: throttling, 5xx and network errors, exponential backoff with full jitter.
      maxAttempts: endpoint.maxAttempts ?? 4,
      retryMode: 'standard',
      requestHandler: { connectionTimeout: timeout, requestTimeout: timeout },
    });
  }

  async preflight(): Promise<void> {
    const { HostedZone } = await this.call('read the hosted zone', () =>
      this.client.send(new GetHostedZoneCommand({ Id: this.endpoint.hostedZoneId })),
    );
    const name = plainName(HostedZone?.Name ?? '');
    if (name !== plainName(this.target.zone))
      throw new InvalidInputError(
        `spec.traffic.provider.route53.hostedZoneId: hosted zone ${this.endpoint.hostedZoneId} is ${name || 'unnamed'}, not spec.traffic.zone ${this.target.zone}: give the id of ${this.target.zone}'s hosted zone`,
      );
  }

  async states(): Promise<Record<string, RegionTraffic>> {
    return this.statesIn(await this.zoneRecordSets());
  }

  async setRegion(region: string, traffic: RegionTraffic): Promise<RegionTraffic | undefined> {
    if (!this.target.regions.some((r) => r.name === region))
      throw new InvalidInputError(
        `region ${JSON.stringify(region.slice(0, 64))} is not behind ${this.target.hostname}: spec.traffic.regions lists ${this.target.regions.map((r) => r.name).join(', ')}`,
      );
    const value = encodeStateTxt(recordedTrafficSchema.parse(traffic));
    const current = this.stateRecord(await this.zoneRecordSets(), region);
    const currentValue = current?.ResourceRecords?.[0]?.Value;
    // A state this provider cannot read is overwritten: the previous state is then unknown.
    const previous = currentValue === undefined ? undefined : this.tryParseState(region, currentValue);
    if (currentValue !== value || current?.ResourceRecords?.length !== 1 || current.TTL !== this.target.ttlSeconds) {
      const record: ResourceRecordSet = {
        Name: stateRecordName(this.target.hostname, region),
        Type: 'TXT',
        TTL: this.target.ttlSeconds,
        ResourceRecords: [{ Value: value }],
      };
      await this.change([{ Action: 'UPSERT', ResourceRecordSet: record }], `${region}: state ${describe(traffic)}`);
    }
    await this.converge(`${region} ${describe(traffic)} by ${traffic.by}: ${traffic.reason}`);
    return previous;
  }

  /** Writes the answers for the states as they are now (a new spec's regions, addresses or health checks). */
  async publish(note: string): Promise<void> {
    await this.converge(note);
  }

  /**
   * Each region's health as Route 53's checkers report it: up while one of its addresses is healthy
   * (more than 18% of its checkers say so, Route 53's own rule).
   */
  async health(): Promise<Record<string, RegionHealth>> {
    const existing = await this.healthChecksByReference();
    const out: Record<string, RegionHealth> = Object.create(null) as Record<string, RegionHealth>;
    for (const region of this.target.regions) {
      const checks = addressChecks(this.target).filter((c) => c.region === region.name);
      const ids = checks.map((c) => {
        const found = existing.get(c.callerReference);
        if (!found)
          throw new UnreachableError(
            `${this.target.hostname}: ${this.where} has no health check of ${region.name}'s ${c.address} yet: publish the answers first (meridian traffic restore ${region.name} --reason ..., or a release)`,
          );
        return found;
      });
      const healths = await Promise.all(
        ids.map(async (id) => {
          const status = await this.call('read a health check status', () =>
            this.client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id })),
          );
          return healthFromObservations((status.HealthCheckObservations ?? []).map((o) => o.StatusReport?.Status));
        }),
      );
      out[region.name] = healths.includes('up') ? 'up' : 'down';
    }
    return out;
  }

  /**
   * Writes what the states in the zone say until the zone holds it: each round reads the zone (states
   * and answers), writes the answers that differ, and reads again. A write counts once Route 53 reports
   * it INSYNC (on its DNS servers), so a drain's one-TTL wait starts after the answers changed.
   */
  private async converge(note: string): Promise<void> {
    const checks = await this.ensureHealthChecks();
    let lastChange: string | undefined;
    let refusedBefore = false;
    for (let round = 0; round < maxConvergeRounds; round++) {
      const records = await this.zoneRecordSets();
      const states = this.statesIn(records);
      const wanted = answerRecordSets(this.target, states, {
        zoneId: this.endpoint.hostedZoneId,
        latencyRegions: this.endpoint.latencyRegions,
        regionCheck: (region, family) => checks.get(checkKey(region, family))!,
      });
      const changes = answerChanges(this.target.hostname, records, wanted);
      if (changes.length === 0) {
        if (lastChange) await this.waitInSync(lastChange);
        return;
      }
      try {
        lastChange = await this.change(changes, note);
        refusedBefore = false;
      } catch (err) {
        // Another writer may have changed a record between the read and this write (a DELETE of a record
        // it had just deleted): read the zone again, once; refused twice in a row, the batch itself is wrong.
        if (!(err instanceof ChangeConflict) || refusedBefore) throw err;
        refusedBefore = true;
      }
    }
    throw new UnreachableError(
      `${this.target.hostname}: region states kept changing while the answers were written (${maxConvergeRounds} rounds); try again`,
    );
  }

  /**
   * The calculated check of each region and family, making what is missing: first every address's
   * check, then each region's over them. A check is found by its CallerReference; when two writers made
   * the same one at once (Route 53 itself returns the first for a repeated reference, an emulator may
   * not), each takes the lowest id, so both write the same records.
   */
  private async ensureHealthChecks(): Promise<Map<string, string>> {
    if (this.regionChecks) return this.regionChecks;
    const addresses = addressChecks(this.target);
    const byReference = await this.ensureChecks(addresses.map((c) => ({ ref: c.callerReference, config: c.config })));
    const regional: { key: string; ref: string; config: HealthCheckConfig }[] = [];
    for (const region of this.target.regions) {
      for (const family of [4, 6] as AddressFamily[]) {
        const children = addresses.filter((c) => c.region === region.name && familyOf(c.address) === family);
        if (children.length === 0) continue;
        const refs = children.map((c) => c.callerReference);
        regional.push({
          key: checkKey(region.name, family),
          ref: regionCheckReference(this.target.hostname, region.name, family, refs),
          config: regionCheckConfig(refs.map((r) => byReference.get(r)!)),
        });
      }
    }
    const regionIds = await this.ensureChecks(regional.map(({ ref, config }) => ({ ref, config })));
    this.regionChecks = new Map(regional.map(({ key, ref }) => [key, regionIds.get(ref)!]));
    return this.regionChecks;
  }

  private async ensureChecks(wanted: { ref: string; config: HealthCheckConfig }[]): Promise<Map<string, string>> {
    let existing = await this.healthChecksByReference();
    const missing = wanted.filter((w) => !existing.has(w.ref));
    for (const { ref, config } of missing)
      await this.call('create a health check', () =>
        this.client.send(new CreateHealthCheckCommand({ CallerReference: ref, HealthCheckConfig: config })),
      );
    if (missing.length > 0) existing = await this.healthChecksByReference();
    for (const { ref } of wanted)
      if (!existing.has(ref))
        throw new UnreachableError(`${this.where} did not keep a health check it created (${ref}); try again`);
    return existing;
  }

  /** Every health check of the account by CallerReference (the lowest id when a reference repeats). */
  private async healthChecksByReference(): Promise<Map<string, string>> {
    const all: HealthCheck[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('list health checks', () =>
        this.client.send(new ListHealthChecksCommand({ Marker: marker, MaxItems: 1000 })),
      );
      all.push(...(page.HealthChecks ?? []));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker && all.length < maxZoneRecordSets);
    const out = new Map<string, string>();
    for (const check of all) {
      const ref = check.CallerReference;
      if (!ref || !check.Id) continue;
      const known = out.get(ref);
      if (known === undefined || check.Id < known) out.set(ref, check.Id);
    }
    return out;
  }

  /** Every record set of the zone, page by page. */
  private async zoneRecordSets(): Promise<ResourceRecordSet[]> {
    const all: ResourceRecordSet[] = [];
    let start: { StartRecordName?: string; StartRecordType?: string; StartRecordIdentifier?: string } = {};
    for (;;) {
      const page = await this.call('list the zone', () =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: this.endpoint.hostedZoneId,
            MaxItems: 300,
            ...(start as Record<string, never>),
          }),
        ),
      );
      all.push(...(page.ResourceRecordSets ?? []));
      if (!page.IsTruncated || !page.NextRecordName) return all;
      if (all.length >= maxZoneRecordSets)
        throw new InvalidInputError(
          `hosted zone ${this.endpoint.hostedZoneId} holds more than ${maxZoneRecordSets} record sets: give the hostname a zone of its own`,
        );
      start = {
        StartRecordName: page.NextRecordName,
        StartRecordType: page.NextRecordType,
        ...(page.NextRecordIdentifier ? { StartRecordIdentifier: page.NextRecordIdentifier } : {}),
      };
    }
  }

  private stateRecord(records: ResourceRecordSet[], region: string): ResourceRecordSet | undefined {
    const name = plainName(stateRecordName(this.target.hostname, region));
    return records.find((r) => r.Type === 'TXT' && plainName(r.Name ?? '') === name);
  }

  private statesIn(records: ResourceRecordSet[]): Record<string, RegionTraffic> {
    const out: Record<string, RegionTraffic> = Object.create(null) as Record<string, RegionTraffic>;
    for (const region of this.target.regions) {
      const value = this.stateRecord(records, region.name)?.ResourceRecords?.[0]?.Value;
      if (value !== undefined) out[region.name] = this.parseState(region.name, value);
    }
    return out;
  }

  private parseState(region: string, value: string): RegionTraffic {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodeTxt(value) ?? '');
    } catch {
      parsed = undefined;
    }
    const result = recordedTrafficSchema.safeParse(parsed);
    if (!result.success)
      throw new InvalidInputError(
        `hosted zone ${this.endpoint.hostedZoneId}: the TXT record ${stateRecordName(this.target.hostname, region)} is not a traffic state Meridian wrote: restore the region (meridian traffic restore ${region}) to rewrite it`,
      );
    return result.data;
  }

  private tryParseState(region: string, value: string): RegionTraffic | undefined {
    try {
      return this.parseState(region, value);
    } catch {
      return undefined;
    }
  }

  /** Submits one change batch; returns its id unless Route 53 already reports it INSYNC. */
  private async change(changes: Change[], note: string): Promise<string | undefined> {
    const { ChangeInfo } = await this.call('change record sets', () =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.endpoint.hostedZoneId,
          ChangeBatch: { Comment: `Meridian: ${note}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 256), Changes: changes },
        }),
      ),
    );
    return ChangeInfo?.Status === 'INSYNC' ? undefined : ChangeInfo?.Id;
  }

  private async waitInSync(changeId: string): Promise<void> {
    const deadline = Date.now() + (this.endpoint.insyncTimeoutMs ?? 60_000);
    for (;;) {
      const { ChangeInfo } = await this.call('read a change', () =>
        this.client.send(new GetChangeCommand({ Id: changeId })),
      );
      if (ChangeInfo?.Status === 'INSYNC') return;
      if (Date.now() >= deadline)
        throw new UnreachableError(
          `${this.where}: change ${changeId} to ${this.target.hostname} is written but not yet on Route 53's DNS servers (not INSYNC after ${Math.round((this.endpoint.insyncTimeoutMs ?? 60_000) / 1000)}s)`,
        );
      await sleep(2000);
    }
  }

  /**
   * One API call, its failure said in Meridian's terms: credentials refused and requests Route 53
   * refuses are invalid input (a retry cannot fix them); throttling, 5xx and no answer, still failing
   * after the SDK's retries, are unreachable (the activity's retry may). Never quotes a credential.
   */
  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw this.classify(what, err);
    }
  }

  private classify(what: string, err: unknown): Error {
    const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const name = typeof e.name === 'string' ? e.name : 'Error';
    const status = e.$metadata?.httpStatusCode;
    if (name === 'CredentialsProviderError')
      return new InvalidInputError(
        `the worker has no AWS credentials to ${what} on ${this.where}: give it credentials through the AWS default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment, AWS_PROFILE, or the role of its instance or pod)`,
      );
    if (credentialErrors.has(name) || status === 401 || status === 403)
      return new InvalidInputError(
        `${this.where} refused the worker's AWS credentials to ${what} (${name === 'Unknown' || name === 'Error' ? status : name}): give the worker credentials (AWS default chain) allowed route53:GetHostedZone, ListResourceRecordSets, ChangeResourceRecordSets, GetChange, ListHealthChecks, CreateHealthCheck and GetHealthCheckStatus`,
      );
    if (name === 'NoSuchHostedZone')
      return new InvalidInputError(
        `spec.traffic.provider.route53.hostedZoneId: ${this.where} has no hosted zone ${this.endpoint.hostedZoneId}: create it for ${this.target.zone} (aws route53 create-hosted-zone --name ${this.target.zone} --caller-reference ...) or fix the id`,
      );
    const detail = this.scrub(e.message ?? '');
    if (name === 'InvalidChangeBatch' && what === 'change record sets')
      return new ChangeConflict(`${this.where} refused ${what} (${name}): ${detail}`);
    if (status === undefined)
      return new UnreachableError(`${this.where} did not answer ${what} (${networkReason(e, detail)})`);
    if (status >= 500 || status === 429 || name === 'Throttling' || name === 'PriorRequestNotComplete')
      return new UnreachableError(`${this.where} did not answer ${what} (${status}${detail ? `: ${detail}` : ''})`);
    return new InvalidInputError(`${this.where} refused ${what} (${name}, ${status}): ${detail || '(no detail)'}`);
  }

  /** An error's words, one line, bounded, without any of the worker's credentials in it. */
  private scrub(message: string): string {
    let line = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    const { credentials } = this.endpoint;
    for (const secret of [credentials?.accessKeyId, credentials?.secretAccessKey, credentials?.sessionToken])
      if (secret) line = line.split(secret).join('***');
    return line.length > 300 ? `${line.slice(0, 300)}…` : line;
  }
}

/** A change batch Route 53 refused because the zone changed under it (another writer): read it again. */
class ChangeConflict extends InvalidInputError {}

/** Why a request got no answer: the system's error code (ECONNREFUSED, ETIMEDOUT...) when there is one. */
function networkReason(err: { name?: string; code?: string; cause?: unknown }, detail: string): string {
  const cause = (err.cause as { code?: unknown } | undefined)?.code;
  const code = err.code ?? (typeof cause === 'string' ? cause : undefined) ?? /\bE[A-Z_]{3,}\b/.exec(detail)?.[0];
  return code ?? (err.name === 'TimeoutError' ? 'timed out' : detail || 'no answer');
}

function checkKey(region: string, family: AddressFamily): string {
  return `${region} ${family}`;
}

/**
 * The changes that make the zone's answer records what `wanted` says: UPSERT what is missing or differs,
 * DELETE (as read, which Route 53 requires) what Meridian wrote and no longer wants.
 */
export function answerChanges(hostname: string, records: ResourceRecordSet[], wanted: ResourceRecordSet[]): Change[] {
  const current = new Map(records.filter((r) => isAnswerRecord(hostname, r)).map((r) => [recordSetKey(r), r]));
  const wantedKeys = new Set(wanted.map(recordSetKey));
  const deletes: Change[] = [...current.entries()]
    .filter(([key]) => !wantedKeys.has(key))
    .map(([, record]) => ({ Action: 'DELETE', ResourceRecordSet: record }));
  const upserts: Change[] = wanted
    .filter((w) => {
      const found = current.get(recordSetKey(w));
      return !found || !sameRecordSet(found, w);
    })
    .map((record) => ({ Action: 'UPSERT', ResourceRecordSet: record }));
  return [...deletes, ...upserts];
}

function describe(traffic: RegionTraffic): string {
  return `${traffic.mode}${traffic.mode === 'ramp' ? ` ${Math.round(traffic.share * 1000) / 10}%` : ''}`;
}
