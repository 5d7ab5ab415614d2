import type { AddressInfo } from 'node:net';
import {
  activeMisbehaviour,
  behaviourFor,
  createDemoService,
  dominantVersion,
  mangleScripts,
  misbehavingSince,
  misbehavingVersions,
  pickVersion,
} from '../../src/rig/demo-service';
import type { RolledOut } from '../../src/rig/region-follower';
import { versionsInRegion } from '../../src/rig/rig-config';
import { versionBehaviourSchema } from '../../src/rig/rig-config';
import { syntheticUserHeader, type UserTrafficControl } from '../../src/rig/user-traffic';

const rolled = (readyPods: Record<string, number>, readySince: Record<string, number> = {}): RolledOut => ({
  readyPods,
  readySince,
});

describe('pickVersion', () => {
  it('splits requests by ready pods', () => {
    const r = rolled({ '1.0.0': 3, '2.0.0': 1 });
    expect(pickVersion(r, () => 0)).toBe('1.0.0');
    expect(pickVersion(r, () => 0.74)).toBe('1.0.0');
    expect(pickVersion(r, () => 0.75)).toBe('2.0.0');
    expect(pickVersion(r, () => 0.999)).toBe('2.0.0');
  });

  it('has no version when no pod is ready', () => {
    expect(pickVersion(rolled({}))).toBeUndefined();
    expect(pickVersion(rolled({ '1.0.0': 0 }))).toBeUndefined();
  });
});

describe('dominantVersion', () => {
  it('is the version with the most ready pods', () => {
    expect(dominantVersion(rolled({ '1.0.0': 1, '2.0.0': 2 }))).toBe('2.0.0');
  });
});

describe('activeMisbehaviour', () => {
  const delayed = versionBehaviourSchema.parse({ after: '2m', errorRate: 0.3 });

  it('holds back a delayed misbehaviour until its time has come', () => {
    expect(activeMisbehaviour(delayed, 1_000, 1_000 + 119_000)).toBeUndefined();
    expect(activeMisbehaviour(delayed, 1_000, 1_000 + 120_000)).toBe(delayed);
  });

  it('applies an immediate misbehaviour at once, and none to a good version', () => {
    const bad = versionBehaviourSchema.parse({ errorRate: 1 });
    expect(activeMisbehaviour(bad, undefined, 0)).toBe(bad);
    expect(activeMisbehaviour(undefined, 0, 0)).toBeUndefined();
  });
});

describe('misbehavingSince and misbehavingVersions', () => {
  const versions = {
    '2.4.4-leak': versionBehaviourSchema.parse({ after: '2m', errorRate: 0.3 }),
    '2.4.1-bad': versionBehaviourSchema.parse({ errorRate: 0.5 }),
    '2.4.9-harmless': versionBehaviourSchema.parse({ reason: 'named, but changes nothing' }),
  };

  it('starts a delayed misbehaviour `after` the version became ready, an immediate one when it became ready', () => {
    expect(misbehavingSince(versions['2.4.4-leak'], 1_000)).toBe(121_000);
    expect(misbehavingSince(versions['2.4.1-bad'], 1_000)).toBe(1_000);
    expect(misbehavingSince(versions['2.4.9-harmless'], 1_000)).toBeUndefined();
    expect(misbehavingSince(undefined, 1_000)).toBeUndefined();
    expect(misbehavingSince(versions['2.4.1-bad'], undefined)).toBeUndefined();
  });

  it('lists the rolled-out versions that misbehave now, not those whose time has not come', () => {
    const r = rolled(
      { '2.4.4-leak.7': 1, '2.4.1-bad': 1, '2.3.9': 2, '2.4.9-harmless': 1 },
      { '2.4.4-leak.7': 0, '2.4.1-bad': 5_000, '2.3.9': 0, '2.4.9-harmless': 0 },
    );
    expect(misbehavingVersions(r, versions, 119_999)).toEqual({ '2.4.1-bad': 5_000 });
    expect(misbehavingVersions(r, versions, 120_000)).toEqual({ '2.4.1-bad': 5_000, '2.4.4-leak.7': 120_000 });
  });
});

describe('behaviourFor', () => {
  const versions = { '2.4.3-mojibake': versionBehaviourSchema.parse({ brokenScripts: ['Hangul'] }) };

  it('applies to the version and to its suffixed variants, not to look-alikes', () => {
    expect(behaviourFor(versions, '2.4.3-mojibake')).toBe(versions['2.4.3-mojibake']);
    expect(behaviourFor(versions, '2.4.3-mojibake.e2e-1')).toBe(versions['2.4.3-mojibake']);
    expect(behaviourFor(versions, '2.4.3-mojibake+ci.7')).toBe(versions['2.4.3-mojibake']);
    expect(behaviourFor(versions, '2.4.3-mojibakery')).toBeUndefined();
    expect(behaviourFor(versions, '2.4.3')).toBeUndefined();
  });
});

describe('mangleScripts', () => {
  it('breaks only the named scripts', () => {
    expect(mangleScripts('결제 محمد pay', ['Hangul', 'Arabic'])).toBe('?? ???? pay');
    expect(mangleScripts('कॉफ़ी', ['Hangul'])).toBe('कॉफ़ी');
  });
});

describe('the demo service', () => {
  const region = {
    name: 'r1',
    context: 'c',
    namespace: 'n',
    deployment: 'shop-api',
    port: 0,
    role: 'production' as const,
    traits: { traffic: 'low' as const, scripts: ['Latin'], mobileShare: 0, apis: [] },
  };
  let state = rolled({ '1.0.0': 2 });
  const clock = { now: Date.parse('2026-03-01T10:00:00Z') };
  let looks = 0;
  let trafficRps = 2;
  const userTraffic: UserTrafficControl = {
    setRps: (rps) => {
      trafficRps = rps ?? 2;
    },
    describe: () => ({
      rps: trafficRps,
      configuredRps: 2,
      sent: 10,
      failed: 0,
      skipped: 0,
      resolve: 'direct',
      byRegion: { r1: { sent: 10, failed: 0 } },
    }),
  };
  const server = createDemoService({
    region,
    rolledOut: () => {
      looks++;
      return state;
    },
    versions: {
      '9.9.9-bad': versionBehaviourSchema.parse({ errorRate: 1, reason: 'broken on purpose' }),
      '9.9.8-leak': versionBehaviourSchema.parse({ after: '2m', brokenScripts: ['Hangul'] }),
    },
    userTraffic,
    now: () => clock.now,
  });
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves the checks of the example suite, in any script', async () => {
    const search = await fetch(`${base}/search?q=${encodeURIComponent('결제')}`);
    expect(search.status).toBe(200);
    expect(search.headers.get('x-meridian-version')).toBe('1.0.0');
    expect(await search.json()).toMatchObject({ query: '결제', version: '1.0.0', region: 'r1' });

    const order = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: 'محمد', items: [{ sku: 'A-1', qty: 1 }] }),
    });
    expect(order.status).toBe(201);
    expect(await order.text()).toContain('محمد');

    const catalog = await fetch(`${base}/catalog?lang=hi`, { headers: { 'accept-language': 'hi-IN' } });
    expect(await catalog.json()).toMatchObject({
      lang: 'hi',
      items: [
        { sku: 'A-1', name: 'कॉफ़ी बीन्स' },
        { sku: 'B-2', name: 'चाय' },
      ],
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('rejects a malformed order with 400', async () => {
    const res = await fetch(`${base}/orders`, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(400);
  });

  it('answers 503 while nothing is rolled out, and 500 as a version marked bad', async () => {
    state = rolled({});
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    state = rolled({ '9.9.9-bad': 1 });
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ version: '9.9.9-bad', reason: 'broken on purpose' });
  });

  it('reports since when a delayed misbehaviour is in force: absent before, in /version, a header and a gauge after', async () => {
    const ready = clock.now;
    state = rolled({ '9.9.8-leak': 2 }, { '9.9.8-leak': ready });
    clock.now = ready + 119_000;
    const before = await fetch(`${base}/search?q=${encodeURIComponent('결제')}`);
    expect(before.headers.get('x-meridian-misbehaving-since')).toBeNull();
    expect(await before.json()).toMatchObject({ query: '결제' });
    const versionBefore = (await (await fetch(`${base}/version`)).json()) as Record<string, unknown>;
    expect(versionBefore).toMatchObject({ version: '9.9.8-leak', misbehaving: {} });
    expect(versionBefore).not.toHaveProperty('misbehavingSince');
    expect(await (await fetch(`${base}/metrics`)).text()).not.toMatch(/demo_misbehaving_since_seconds\{/);

    clock.now = ready + 120_000;
    const since = new Date(ready + 120_000).toISOString();
    const after = await fetch(`${base}/search?q=${encodeURIComponent('결제')}`);
    expect(after.headers.get('x-meridian-misbehaving-since')).toBe(since);
    expect(await after.json()).toMatchObject({ query: '??' });
    expect(await (await fetch(`${base}/version`)).json()).toMatchObject({
      version: '9.9.8-leak',
      misbehavingSince: since,
      misbehaving: { '9.9.8-leak': since },
    });
    const gauge = new RegExp(
      `demo_misbehaving_since_seconds\\{region="r1",version="9.9.8-leak"\\} ${(ready + 120_000) / 1000}(\\.0+)?\n`,
    );
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(gauge);
  });

  it("exports the process's CPU and memory with the region's label", async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const cpu = /process_cpu_seconds_total\{region="r1"\} ([\d.e+-]+)/.exec(text);
    const rss = /process_resident_memory_bytes\{region="r1"\} (\d+)/.exec(text);
    expect(Number(cpu?.[1])).toBeGreaterThan(0);
    expect(Number(rss?.[1])).toBeGreaterThan(10 * 1024 * 1024);
    expect(text).toMatch(/# TYPE process_cpu_seconds_total counter/);
  });

  it('answers every request from what its follower holds, one read each, synthetic users and scrapes alike', async () => {
    const before = state;
    looks = 0;
    await fetch(`${base}/catalog`, { headers: { [syntheticUserHeader]: '1' } });
    await fetch(`${base}/metrics`);
    state = rolled({ '1.0.1': 2 });
    const res = await fetch(`${base}/catalog`);
    state = before;
    expect(res.headers.get('x-meridian-version')).toBe('1.0.1');
    expect(looks).toBe(3);
  });

  it('shows and sets the rate of its synthetic users at /_rig/user-traffic, without counting those calls', async () => {
    expect(await (await fetch(`${base}/_rig/user-traffic`)).json()).toMatchObject({
      region: 'r1',
      rps: 2,
      configuredRps: 2,
    });
    const set = await fetch(`${base}/_rig/user-traffic`, { method: 'PUT', body: JSON.stringify({ rps: 0 }) });
    expect(await set.json()).toMatchObject({ rps: 0, configuredRps: 2 });
    expect((await fetch(`${base}/_rig/user-traffic`, { method: 'PUT', body: '{"rps": -1}' })).status).toBe(400);
    await fetch(`${base}/_rig/user-traffic`, { method: 'PUT', body: JSON.stringify({ rps: null }) });
    expect(trafficRps).toBe(2);
    expect(await (await fetch(`${base}/metrics`)).text()).not.toContain('_rig');
  });

  it('counts requests by version and status code for Prometheus', async () => {
    state = rolled({ '1.0.0': 1 });
    await fetch(`${base}/healthz`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/demo_http_requests_total\{region="r1",version="1.0.0",code="200"\} \d+/);
    expect(text).toMatch(/demo_http_requests_total\{region="r1",version="9.9.9-bad",code="500"\} 1/);
    expect(text).toMatch(/demo_http_request_duration_seconds_count\{region="r1",version="1.0.0"\} \d+/);
  });
});

describe('versionsInRegion', () => {
  it('leaves out versions that misbehave only in other regions', () => {
    const versions = {
      everywhere: { errorRate: 0.5, latency: 0, brokenScripts: [], after: 0 },
      seoul: { errorRate: 0, latency: 0, brokenScripts: ['Hangul'], after: 0, regions: ['ap-northeast-2'] },
    };
    expect(Object.keys(versionsInRegion(versions, 'ap-northeast-2'))).toEqual(['everywhere', 'seoul']);
    expect(Object.keys(versionsInRegion(versions, 'us-west'))).toEqual(['everywhere']);
  });
});
