import { ResourceRecordSetRegion, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { awsLatencyRegions, nearestAwsRegion } from '../../../src/domain/aws-regions';
import { type RegionTraffic, type SteeredRegion, trafficAt } from '../../../src/domain/traffic-policy';
import {
  addressCheck,
  answerRecordSets,
  decodeTxt,
  encodeStateTxt,
  healthFromObservations,
  maxTxtValueChars,
  type Route53Target,
} from '../../../src/infra/traffic/route53-records';
import { answerChanges } from '../../../src/infra/traffic/route53-traffic';

/** The record sets a state produces, without any server: the mapping the Route 53 provider writes. */
const region = (name: string, addresses: string[], latitude: number, longitude: number): SteeredRegion => ({
  name,
  addresses,
  latitude,
  longitude,
  weight: 1,
  healthUrl: (a) => `http://${a.includes(':') ? `[${a}]` : a}:8080/healthz`,
});

const target: Route53Target = {
  hostname: 'shop.example.test',
  ttlSeconds: 5,
  healthIntervalSeconds: 30,
  regions: [
    region('us-east', ['192.0.2.10'], 39.0, -77.5),
    region('eu-west', ['192.0.2.20', '2001:db8::20'], 53.3, -6.3),
    region('ap-northeast-2', ['192.0.2.30'], 37.6, 127.0),
  ],
};
const context = {
  zoneId: 'Z0EXAMPLE',
  latencyRegions: { 'us-east': 'us-east-1', 'eu-west': 'eu-west-1', 'ap-northeast-2': 'ap-northeast-2' },
  regionCheck: (name: string, family: 4 | 6) => `check-${name}-${family}`,
};
const note = { by: 'test', reason: 'r', at: '2026-12-06T00:00:00Z' };
const at = (share: number): RegionTraffic => trafficAt(share, note);

/** One line per record set: name, type, identifier, policy and where it answers. */
function lines(states: Record<string, RegionTraffic>, t: Route53Target = target): string[] {
  return answerRecordSets(t, states, context).map((r) => {
    const to = r.AliasTarget
      ? `-> ${r.AliasTarget.DNSName}`
      : `${r.ResourceRecords!.map((v) => v.Value).join(',')} [${r.HealthCheckId}] ttl ${r.TTL}`;
    return `${r.Name} ${r.Type} ${r.SetIdentifier} ${r.Region ?? `w${r.Weight}`} ${to}`;
  });
}

describe('answerRecordSets', () => {
  it('answers every region with its latency record when none is drained, per address family', () => {
    expect(lines({})).toEqual([
      'shop.example.test A us-east us-east-1 192.0.2.10 [check-us-east-4] ttl 5',
      'shop.example.test A eu-west eu-west-1 192.0.2.20 [check-eu-west-4] ttl 5',
      'shop.example.test A ap-northeast-2 ap-northeast-2 192.0.2.30 [check-ap-northeast-2-4] ttl 5',
      'shop.example.test AAAA eu-west eu-west-1 2001:db8::20 [check-eu-west-6] ttl 5',
    ]);
  });

  it('leaves a drained region out, and answers all regions of a family when all of it are drained', () => {
    expect(lines({ 'eu-west': at(0) })).toEqual([
      'shop.example.test A us-east us-east-1 192.0.2.10 [check-us-east-4] ttl 5',
      'shop.example.test A ap-northeast-2 ap-northeast-2 192.0.2.30 [check-ap-northeast-2-4] ttl 5',
      // eu-west is the only region with IPv6 addresses: draining it must not leave AAAA questions unanswered.
      'shop.example.test AAAA eu-west eu-west-1 2001:db8::20 [check-eu-west-6] ttl 5',
    ]);
    const allDrained = lines({ 'us-east': at(0), 'eu-west': at(0), 'ap-northeast-2': at(0) });
    expect(allDrained).toEqual(lines({}));
  });

  it("makes a ramping region's record an alias to a weighted pair with its next-closest region in service", () => {
    expect(lines({ 'us-east': at(0.1) })).toEqual([
      'shop.example.test A us-east us-east-1 -> us-east._ramp.shop.example.test',
      'us-east._ramp.shop.example.test A us-east/own w26 192.0.2.10 [check-us-east-4] ttl 5',
      'us-east._ramp.shop.example.test A us-east/next w229 192.0.2.20 [check-eu-west-4] ttl 5',
      'shop.example.test A eu-west eu-west-1 192.0.2.20 [check-eu-west-4] ttl 5',
      'shop.example.test A ap-northeast-2 ap-northeast-2 192.0.2.30 [check-ap-northeast-2-4] ttl 5',
      'shop.example.test AAAA eu-west eu-west-1 2001:db8::20 [check-eu-west-6] ttl 5',
    ]);
    const alias = answerRecordSets(target, { 'us-east': at(0.1) }, context)[0];
    expect(alias.AliasTarget).toEqual({
      HostedZoneId: 'Z0EXAMPLE',
      DNSName: 'us-east._ramp.shop.example.test',
      EvaluateTargetHealth: true,
    });
    expect(alias.TTL).toBeUndefined();
  });

  it('sends the rest past a drained neighbour, to a ramping one when none is in service, and nowhere when all others are drained', () => {
    const next = (states: Record<string, RegionTraffic>) => lines(states).filter((l) => l.includes('us-east/next'));
    expect(next({ 'us-east': at(0.5), 'eu-west': at(0) })).toEqual([
      'us-east._ramp.shop.example.test A us-east/next w127 192.0.2.30 [check-ap-northeast-2-4] ttl 5',
    ]);
    expect(next({ 'us-east': at(0.5), 'eu-west': at(0.2), 'ap-northeast-2': at(0) })).toEqual([
      'us-east._ramp.shop.example.test A us-east/next w127 192.0.2.20 [check-eu-west-4] ttl 5',
    ]);
    // Alone in the answers, a ramping region answers all its users: there is nowhere else to send them.
    expect(lines({ 'us-east': at(0.5), 'eu-west': at(0), 'ap-northeast-2': at(0) }).slice(0, 1)).toEqual([
      'shop.example.test A us-east us-east-1 192.0.2.10 [check-us-east-4] ttl 5',
    ]);
  });

  it('keeps both members of a pair at a share near 0 or 1 (weights 1..254 of 255)', () => {
    const weights = (share: number) =>
      answerRecordSets(target, { 'us-east': at(share) }, context)
        .filter((r) => r.Weight !== undefined)
        .map((r) => r.Weight);
    expect(weights(0.001)).toEqual([1, 254]);
    expect(weights(0.999)).toEqual([254, 1]);
    expect(weights(0.5)).toEqual([128, 127]);
  });
});

describe('answerChanges', () => {
  const wanted = answerRecordSets(target, { 'us-east': at(0) }, context);
  const asRead = (r: ResourceRecordSet): ResourceRecordSet => ({
    ...r,
    Name: `${r.Name}.`,
    ResourceRecords: r.ResourceRecords && [...r.ResourceRecords].reverse(),
  });

  it('changes nothing when the zone holds what is wanted (names with a dot, values in another order)', () => {
    const other: ResourceRecordSet = {
      Name: 'www.example.test.',
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.99' }],
    };
    expect(answerChanges(target.hostname, [...wanted.map(asRead), other], wanted)).toEqual([]);
  });

  it("deletes Meridian's records it no longer wants, as read, and upserts what differs; leaves other records alone", () => {
    const before = answerRecordSets(target, { 'us-east': at(0.1) }, context).map(asRead);
    const other: ResourceRecordSet = {
      Name: 'shop.example.test.',
      Type: 'TXT',
      TTL: 60,
      ResourceRecords: [{ Value: '"x"' }],
    };
    const changes = answerChanges(target.hostname, [...before, other], wanted);
    expect(
      changes.map((c) => `${c.Action} ${c.ResourceRecordSet!.Name} ${c.ResourceRecordSet!.SetIdentifier}`),
    ).toEqual([
      'DELETE shop.example.test. us-east',
      'DELETE us-east._ramp.shop.example.test. us-east/own',
      'DELETE us-east._ramp.shop.example.test. us-east/next',
    ]);
    expect(changes[1].ResourceRecordSet).toEqual(before[1]);
    const moved = answerChanges(target.hostname, before, answerRecordSets(target, { 'us-east': at(0.5) }, context));
    expect(
      moved.map((c) => `${c.Action} ${c.ResourceRecordSet!.SetIdentifier} w${c.ResourceRecordSet!.Weight}`),
    ).toEqual(['UPSERT us-east/own w128', 'UPSERT us-east/next w127']);
  });
});

describe('state TXT records', () => {
  it('round-trips quotes, backslashes, other scripts and control characters as printable ASCII', () => {
    const state = { ...at(0.25), reason: 'say "no" \\ 결제 오류\nمراجعة 🚦', release: 'shop@2.5.0' };
    const value = encodeStateTxt(state);
    expect(value).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(decodeTxt(value)!)).toEqual(state);
  });

  it('splits the text into strings of at most 255 characters, and shortens a reason too long for one record', () => {
    const long = encodeStateTxt({ ...at(0), reason: 'x'.repeat(1000) });
    const strings = long.match(/"(?:[^"\\]|\\.)*"/g)!;
    expect(strings.length).toBeGreaterThan(4);
    for (const s of strings) expect(decodeTxt(s)!.length).toBeLessThanOrEqual(255);
    expect(JSON.parse(decodeTxt(long)!).reason).toBe('x'.repeat(1000));
    const huge = encodeStateTxt({ ...at(0), reason: '결'.repeat(1000) });
    expect(huge.length).toBeLessThanOrEqual(maxTxtValueChars);
    const kept = JSON.parse(decodeTxt(huge)!).reason as string;
    expect(kept.endsWith('…')).toBe(true);
    expect(kept.startsWith('결'.repeat(100))).toBe(true);
  });

  it("reads Route 53's octal escapes, and nothing that is not quoted strings", () => {
    expect(decodeTxt('"a\\052b" "c\\"d"')).toBe('a*bc"d');
    expect(decodeTxt('"unterminated')).toBeUndefined();
    expect(decodeTxt('bare words')).toBeUndefined();
  });
});

describe('health checks', () => {
  it("checks an address at the region's URL and the spec's interval, with a reference that changes with what is checked", () => {
    const check = addressCheck(target, target.regions[1], '2001:db8::20');
    expect(check.config).toEqual({
      Type: 'HTTP',
      IPAddress: '2001:db8::20',
      Port: 8080,
      ResourcePath: '/healthz',
      RequestInterval: 30,
      FailureThreshold: 1,
    });
    expect(check.callerReference).toHaveLength(57);
    expect(addressCheck(target, target.regions[1], '2001:db8::20').callerReference).toBe(check.callerReference);
    const https = { ...target.regions[1], healthUrl: (a: string) => `https://${a}/ready?deep=1` };
    const other = addressCheck(target, https, '192.0.2.20');
    expect(other.config).toMatchObject({ Type: 'HTTPS', Port: 443, ResourcePath: '/ready?deep=1' });
    expect(other.callerReference).not.toBe(addressCheck(target, target.regions[1], '192.0.2.20').callerReference);
  });

  it("counts an address healthy when more than 18% of Route 53's checkers report success", () => {
    const reports = (ok: number, total: number) =>
      Array.from({ length: total }, (_, i) =>
        i < ok ? 'Success: HTTP Status Code 200, OK' : 'Failure: Connection timed out',
      );
    expect(healthFromObservations(reports(3, 15))).toBe('up');
    expect(healthFromObservations(reports(2, 15))).toBe('down');
    expect(healthFromObservations(reports(0, 8))).toBe('down');
    expect(healthFromObservations([])).toBe('down');
  });
});

describe('AWS latency regions', () => {
  it('names only regions a Route 53 latency record takes', () => {
    const known = Object.values(ResourceRecordSetRegion) as string[];
    for (const name of Object.keys(awsLatencyRegions)) expect(known).toContain(name);
  });

  it("gives each of the example's production regions its nearest AWS region, all different", () => {
    const example = {
      'us-east-canary': [40.0, -83.0],
      'us-west': [45.6, -121.2],
      'us-east': [39.0, -77.5],
      'eu-west': [53.3, -6.3],
      'ap-northeast-2': [37.6, 127.0],
      'me-central': [25.2, 55.3],
      'sa-east': [-23.5, -46.6],
      'ap-south': [19.1, 72.9],
    };
    const nearest = Object.values(example).map(([latitude, longitude]) => nearestAwsRegion({ latitude, longitude }));
    expect(nearest).toEqual([
      'us-east-2',
      'us-west-2',
      'us-east-1',
      'eu-west-1',
      'ap-northeast-2',
      'me-central-1',
      'sa-east-1',
      'ap-south-1',
    ]);
  });
});
