import type { AddressInfo } from 'node:net';
import { activeMisbehaviour, behaviourFor, createDemoService, dominantVersion, mangleScripts, pickVersion } from '../../src/rig/demo-service';
import type { RolledOut } from '../../src/rig/region-follower';
import { versionBehaviourSchema } from '../../src/rig/rig-config';

const rolled = (readyPods: Record<string, number>, readySince: Record<string, number> = {}): RolledOut => ({ readyPods, readySince });

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
  const region = { name: 'r1', context: 'c', namespace: 'n', deployment: 'shop-api', port: 0 };
  let state = rolled({ '1.0.0': 2 });
  const server = createDemoService({
    region,
    rolledOut: () => state,
    versions: { '9.9.9-bad': versionBehaviourSchema.parse({ errorRate: 1, reason: 'broken on purpose' }) },
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
    expect(await catalog.json()).toMatchObject({ lang: 'hi', items: [{ sku: 'A-1', name: 'कॉफ़ी बीन्स' }, { sku: 'B-2', name: 'चाय' }] });
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

  it('counts requests by version and status code for Prometheus', async () => {
    state = rolled({ '1.0.0': 1 });
    await fetch(`${base}/healthz`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/demo_http_requests_total\{region="r1",version="1.0.0",code="200"\} \d+/);
    expect(text).toMatch(/demo_http_requests_total\{region="r1",version="9.9.9-bad",code="500"\} 1/);
    expect(text).toMatch(/demo_http_request_duration_seconds_count\{region="r1",version="1.0.0"\} \d+/);
  });
});
