import {
  ChangeResourceRecordSetsCommand,
  GetHealthCheckCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { ApplicationFailure } from '@temporalio/common';
import { classified } from '../../../src/activities/classify-failure';
import { InvalidInputError, UnreachableError } from '../../../src/domain/errors';
import { trafficAt } from '../../../src/domain/traffic-policy';
import { trafficSchema, type TrafficSpec } from '../../../src/domain/traffic-spec';
import { trafficProvider } from '../../../src/infra/traffic/steering-target';
import type { TrafficProvider } from '../../../src/infra/traffic/traffic-provider';
import { type ApiProxy, route53Error, startApiProxy } from '../../support/api-proxy';
import { type MotoServer, startMoto, testCredentials } from '../../support/moto';

/**
 * The Route 53 provider against a real Route 53 API emulator (moto_server). moto keeps record sets and
 * health checks as Route 53's API does, but serves no DNS and runs no checks: these tests prove what is
 * written (read back through the API), not what clients are answered.
 */
let moto: MotoServer;
let proxy: ApiProxy;
const hostname = 'shop.example.test';

const regions = {
  'us-east': { addresses: ['127.0.81.1'], location: { latitude: 39.0, longitude: -77.5 } },
  'eu-west': { addresses: ['127.0.82.1', '2001:db8:82::1'], location: { latitude: 53.3, longitude: -6.3 } },
  'ap-northeast-2': { addresses: ['127.0.83.1'], location: { latitude: 37.6, longitude: 127.0 } },
};

/** A traffic section on Route 53 for the three regions, its API at `endpoint` (default: through the proxy). */
function spec(hostedZoneId: string, endpoint = proxy.url, overrides: Record<string, unknown> = {}): TrafficSpec {
  return trafficSchema.parse({
    hostname,
    zone: 'example.test',
    ttl: '5s',
    provider: { route53: { hostedZoneId, endpoint } },
    healthCheck: { path: '/healthz', port: 18200, interval: '10s' },
    regions,
    ...overrides,
  });
}

const note = (reason: string, release?: string) => ({
  by: release ? `release ${release}` : 'test',
  reason,
  at: '2026-12-06T08:00:00.000Z',
  ...(release ? { release } : {}),
});

/** Every record set of the zone but its NS and SOA, as read back through the API. */
async function records(zoneId: string): Promise<ResourceRecordSet[]> {
  const out: ResourceRecordSet[] = [];
  const page = await moto.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  out.push(...(page.ResourceRecordSets ?? []));
  expect(page.IsTruncated).toBe(false);
  return out.filter((r) => r.Type !== 'NS' && r.Type !== 'SOA');
}

/** The answer records of the hostname (latency and ramp), in a form a test can compare. */
async function answers(zoneId: string): Promise<string[]> {
  return (await records(zoneId))
    .filter((r) => r.Type === 'A' || r.Type === 'AAAA')
    .map((r) => {
      const target = r.AliasTarget
        ? `alias ${r.AliasTarget.DNSName} evaluate=${r.AliasTarget.EvaluateTargetHealth}`
        : (r.ResourceRecords ?? []).map((v) => v.Value).join(',');
      const policy = r.Region ? `latency ${r.Region}` : `weight ${r.Weight}`;
      return `${r.Name} ${r.Type} ${r.SetIdentifier} ${policy} ${target}${r.HealthCheckId ? ' checked' : ''}`;
    })
    .sort();
}

/** ChangeResourceRecordSets calls the provider made since `from` (through the proxy). */
const changesSince = (from: number) =>
  proxy.seen.slice(from).filter((r) => r.method === 'POST' && /\/hostedzone\/[^/]+\/rrset\/?$/.test(r.path)).length;

/** Every error message a test saw, to check that no credential is ever in one. */
const messages: string[] = [];
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    messages.push((err as Error).message);
    return err as Error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startApiProxy(moto.endpoint);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe('Route 53 traffic steering (moto_server)', () => {
  let zoneId: string;
  let provider: TrafficProvider;

  beforeAll(async () => {
    zoneId = await moto.createZone('example.test');
    provider = await trafficProvider(spec(zoneId), moto.env);
  });

  it('passes preflight for its zone, and publishes one latency record per region and family, each checked', async () => {
    expect(provider.kind).toBe('route53');
    await provider.preflight();
    await provider.publish('first publish');
    expect(await answers(zoneId)).toEqual([
      'shop.example.test. A ap-northeast-2 latency ap-northeast-2 127.0.83.1 checked',
      'shop.example.test. A eu-west latency eu-west-1 127.0.82.1 checked',
      'shop.example.test. A us-east latency us-east-1 127.0.81.1 checked',
      'shop.example.test. AAAA eu-west latency eu-west-1 2001:db8:82::1 checked',
    ]);
    // Each record carries its region's calculated check, over one HTTP check per address.
    const euA = (await records(zoneId)).find((r) => r.Type === 'A' && r.SetIdentifier === 'eu-west')!;
    const calculated = (await moto.route53.send(new GetHealthCheckCommand({ HealthCheckId: euA.HealthCheckId })))
      .HealthCheck!;
    expect(calculated.HealthCheckConfig).toMatchObject({ Type: 'CALCULATED', HealthThreshold: 1 });
    expect(calculated.HealthCheckConfig!.ChildHealthChecks).toHaveLength(1);
    const child = (
      await moto.route53.send(
        new GetHealthCheckCommand({ HealthCheckId: calculated.HealthCheckConfig!.ChildHealthChecks![0] }),
      )
    ).HealthCheck!;
    expect(child.HealthCheckConfig).toMatchObject({
      Type: 'HTTP',
      IPAddress: '127.0.82.1',
      Port: 18200,
      ResourcePath: '/healthz',
      RequestInterval: 10,
      FailureThreshold: 1,
    });
    expect(child.CallerReference).toMatch(/^meridian-[0-9a-f]{48}$/);
  });

  it('drains a region: its answer record goes, its state is recorded with who, why, when and release', async () => {
    const previous = await provider.setRegion('us-east', trafficAt(0, note('deploying 2.5.0', 'shop@2.5.0')));
    expect(previous).toBeUndefined(); // never written: in service
    expect(await answers(zoneId)).toEqual([
      'shop.example.test. A ap-northeast-2 latency ap-northeast-2 127.0.83.1 checked',
      'shop.example.test. A eu-west latency eu-west-1 127.0.82.1 checked',
      'shop.example.test. AAAA eu-west latency eu-west-1 2001:db8:82::1 checked',
    ]);
    const txt = (await records(zoneId)).filter((r) => r.Type === 'TXT');
    expect(txt.map((r) => r.Name)).toEqual(['_meridian.us-east.shop.example.test.']);
    expect(await provider.states()).toEqual({
      'us-east': {
        mode: 'drained',
        share: 0,
        by: 'release shop@2.5.0',
        reason: 'deploying 2.5.0',
        at: '2026-12-06T08:00:00.000Z',
        release: 'shop@2.5.0',
      },
    });
  });

  it('ramps a region as a weighted pair: its share to itself, the rest to its next-closest region in service', async () => {
    const previous = await provider.setRegion('us-east', trafficAt(0.1, note('bake step 1', 'shop@2.5.0')));
    expect(previous).toMatchObject({ mode: 'drained', share: 0, reason: 'deploying 2.5.0' });
    expect(await answers(zoneId)).toEqual([
      'shop.example.test. A ap-northeast-2 latency ap-northeast-2 127.0.83.1 checked',
      'shop.example.test. A eu-west latency eu-west-1 127.0.82.1 checked',
      'shop.example.test. A us-east latency us-east-1 alias us-east._ramp.shop.example.test evaluate=true',
      'shop.example.test. AAAA eu-west latency eu-west-1 2001:db8:82::1 checked',
      // Dublin is closer to N. Virginia than Seoul is: eu-west takes the users us-east does not.
      'us-east._ramp.shop.example.test. A us-east/next weight 229 127.0.82.1 checked',
      'us-east._ramp.shop.example.test. A us-east/own weight 26 127.0.81.1 checked',
    ]);
    const pair = (await records(zoneId)).filter((r) => r.Name === 'us-east._ramp.shop.example.test.');
    const latency = (await records(zoneId)).filter((r) => r.Name === 'shop.example.test.' && r.Type === 'A');
    // The pair's members carry the checks of the regions they answer with.
    expect(pair.find((r) => r.SetIdentifier === 'us-east/next')!.HealthCheckId).toBe(
      latency.find((r) => r.SetIdentifier === 'eu-west')!.HealthCheckId,
    );
  });

  it('writes nothing when a region is set to the state it has (a retried step)', async () => {
    const before = await records(zoneId);
    const from = proxy.seen.length;
    const previous = await provider.setRegion('us-east', trafficAt(0.1, note('bake step 1', 'shop@2.5.0')));
    expect(previous).toMatchObject({ mode: 'ramp', share: 0.1 });
    expect(changesSince(from)).toBe(0);
    expect(await records(zoneId)).toEqual(before);
    // Publishing the same states changes nothing either.
    await provider.publish('again');
    expect(changesSince(from)).toBe(0);
  });

  it('restores a region: the weighted pair goes, its latency record answers with its addresses again', async () => {
    const previous = await provider.setRegion('us-east', trafficAt(1, note('baked', 'shop@2.5.0')));
    expect(previous).toMatchObject({ mode: 'ramp', share: 0.1, reason: 'bake step 1' });
    expect(await answers(zoneId)).toEqual([
      'shop.example.test. A ap-northeast-2 latency ap-northeast-2 127.0.83.1 checked',
      'shop.example.test. A eu-west latency eu-west-1 127.0.82.1 checked',
      'shop.example.test. A us-east latency us-east-1 127.0.81.1 checked',
      'shop.example.test. AAAA eu-west latency eu-west-1 2001:db8:82::1 checked',
    ]);
    expect((await provider.states())['us-east']).toMatchObject({ mode: 'in', share: 1, reason: 'baked' });
  });

  it('keeps both states when two regions are written at once, and answers every region when all of a family are drained', async () => {
    // Two workers, as two regions deploying in parallel.
    const other = await trafficProvider(spec(zoneId), moto.env);
    await Promise.all([
      provider.setRegion('eu-west', trafficAt(0, note('wave 2', 'shop@2.5.0'))),
      other.setRegion('ap-northeast-2', trafficAt(0, note('wave 2', 'shop@2.5.0'))),
    ]);
    expect(await provider.states()).toMatchObject({
      'eu-west': { mode: 'drained' },
      'ap-northeast-2': { mode: 'drained' },
      'us-east': { mode: 'in' },
    });
    expect(await answers(zoneId)).toEqual([
      'shop.example.test. A us-east latency us-east-1 127.0.81.1 checked',
      // eu-west is the only region with IPv6: with every IPv6 region drained, all of them answer.
      'shop.example.test. AAAA eu-west latency eu-west-1 2001:db8:82::1 checked',
    ]);
    await Promise.all([
      provider.setRegion('eu-west', trafficAt(1, note('wave 2 done'))),
      other.setRegion('ap-northeast-2', trafficAt(1, note('wave 2 done'))),
    ]);
    expect(await answers(zoneId)).toHaveLength(4);
  });

  it('refuses a region that is not behind the hostname, writing nothing', async () => {
    const from = proxy.seen.length;
    const err = await failure(provider.setRegion('mars-1', trafficAt(0, note('x'))));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      'region "mars-1" is not behind shop.example.test: spec.traffic.regions lists us-east, eu-west, ap-northeast-2',
    );
    expect(proxy.seen.length).toBe(from);
  });

  it('says which record to fix when a state written by hand cannot be read, and overwrites it when asked', async () => {
    await moto.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: '_meridian.us-east.shop.example.test',
                Type: 'TXT',
                TTL: 5,
                ResourceRecords: [{ Value: '"drained, ask Bob"' }],
              },
            },
          ],
        },
      }),
    );
    const err = await failure(provider.states());
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      `hosted zone ${zoneId}: the TXT record _meridian.us-east.shop.example.test is not a traffic state Meridian wrote: restore the region (meridian traffic restore us-east) to rewrite it`,
    );
    // What it was is unknown, so none is returned.
    expect(await provider.setRegion('us-east', trafficAt(1, note('rewrite')))).toBeUndefined();
    expect((await provider.states())['us-east']).toMatchObject({ mode: 'in', reason: 'rewrite' });
  });

  it("keeps a state's text as written: quotes, backslashes and other scripts", async () => {
    const reason = 'rollback "2.5.0" \\ 결제 오류 — مراجعة';
    await provider.setRegion('ap-northeast-2', trafficAt(0, note(reason)));
    expect((await provider.states())['ap-northeast-2'].reason).toBe(reason);
    const txt = (await records(zoneId)).find((r) => r.Name === '_meridian.ap-northeast-2.shop.example.test.')!;
    // Only printable ASCII goes to Route 53.
    expect(txt.ResourceRecords![0].Value).toMatch(/^[\x20-\x7e]+$/);
    await provider.setRegion('ap-northeast-2', trafficAt(1, note('back')));
  });

  it("reads each region's health from Route 53's checkers (moto reports every check healthy)", async () => {
    expect(await provider.health()).toEqual({ 'us-east': 'up', 'eu-west': 'up', 'ap-northeast-2': 'up' });
  });
});

describe('Route 53 provider faults', () => {
  it('asks to publish first when the health checks do not exist yet', async () => {
    const zoneId = await moto.createZone('example.test');
    const fresh = await trafficProvider(spec(zoneId, proxy.url, { hostname: 'fresh.example.test' }), moto.env);
    const err = await failure(fresh.health());
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/has no health check of us-east's 127\.0\.81\.1 yet: publish the answers first/);
  });

  it('refuses a hosted zone that does not exist, naming the field and the fix (not retried)', async () => {
    const missing = await trafficProvider(spec('ZNOSUCHZONE123'), moto.env);
    const err = await failure(missing.preflight());
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      `spec.traffic.provider.route53.hostedZoneId: Route 53 at ${proxy.url} has no hosted zone ZNOSUCHZONE123: create it for example.test (aws route53 create-hosted-zone --name example.test --caller-reference ...) or fix the id`,
    );
    const asActivity = await failure(classified(() => missing.preflight()));
    expect(asActivity).toBeInstanceOf(ApplicationFailure);
    expect((asActivity as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('refuses a hosted zone of another name than spec.traffic.zone', async () => {
    const otherZone = await moto.createZone('other.test');
    const err = await failure((await trafficProvider(spec(otherZone), moto.env)).preflight());
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      `spec.traffic.provider.route53.hostedZoneId: hosted zone ${otherZone} is other.test, not spec.traffic.zone example.test: give the id of example.test's hosted zone`,
    );
  });

  it('fails as unreachable (retried by the activity) when the API does not answer', async () => {
    const zoneId = await moto.createZone('example.test');
    const down = await trafficProvider(spec(zoneId, 'http://127.0.0.1:1'), moto.env);
    const err = await failure(down.preflight());
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(
      /^Route 53 at http:\/\/127\.0\.0\.1:1 did not answer read the hosted zone \(ECONNREFUSED/,
    );
    // The activity's classification leaves it retryable: a plain error, not a non-retryable failure.
    const asActivity = await failure(classified(() => down.setRegion('us-east', trafficAt(0, note('x')))));
    expect(asActivity).toBeInstanceOf(UnreachableError);
  });

  it('asks again, with jittered backoff, when Route 53 throttles or answers 5xx', async () => {
    const zoneId = await moto.createZone('example.test');
    const steady = await trafficProvider(spec(zoneId), moto.env);
    const from = proxy.seen.length;
    proxy.failNext(1, 400, route53Error('Throttling', 'Rate exceeded'));
    proxy.failNext(1, 503, route53Error('ServiceUnavailable', 'try again'));
    await steady.preflight();
    expect(proxy.seen.slice(from).map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
    // Four failures in a row exhaust the attempts: unreachable, for the activity's retry.
    proxy.failNext(4, 503, route53Error('ServiceUnavailable', 'try again'));
    const err = await failure(steady.preflight());
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/did not answer read the hosted zone \(503: try again\)/);
  });

  it('refuses credentials Route 53 does not accept, without quoting them', async () => {
    const strict = await startMoto({ authenticate: true });
    try {
      const refused = await trafficProvider(spec('ZANYZONE123', strict.endpoint), moto.env);
      const err = await failure(refused.preflight());
      expect(err).toBeInstanceOf(InvalidInputError);
      expect(err.message).toMatch(
        /^Route 53 at http:\/\/127\.0\.0\.1:\d+ refused the worker's AWS credentials to read the hosted zone \(403\): give the worker credentials \(AWS default chain\) allowed route53:GetHostedZone/,
      );
    } finally {
      await strict.stop();
    }
  }, 60_000);

  it('never puts a credential in an error message', () => {
    expect(messages.length).toBeGreaterThanOrEqual(8);
    for (const message of messages)
      for (const secret of Object.values(testCredentials)) expect(message).not.toContain(secret);
  });
});
