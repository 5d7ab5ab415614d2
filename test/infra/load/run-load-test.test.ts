import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoadTest, runUnthrottledLoadTest } from '../../../src/infra/load/run-load-test';
import { InvalidInputError } from '../../../src/domain/errors';
import { parseRecordedTraffic, type RecordedRequest } from '../../../src/domain/recorded-traffic';

/** What the target saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local target: /fail answers 503, /missing 404, /hang never, /slow after 5 ms, /slower after 50 ms, /close
 * closes the connection after its answer, /chunked answers in chunks, anything else 200. */
let server: Server;
let endpoint: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      seen.push({
        method: req.method ?? '',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      });
      if (url.startsWith('/hang')) return;
      if (url.startsWith('/close')) return res.writeHead(200, { connection: 'close' }).end('bye');
      if (url.startsWith('/chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).write('first ');
        return setTimeout(() => res.end('second'), 2);
      }
      const status = url.startsWith('/fail') ? 503 : url.startsWith('/missing') ? 404 : 200;
      const answer = () => res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
      if (url.startsWith('/slower')) setTimeout(answer, 50);
      else if (url.startsWith('/slow')) setTimeout(answer, 5);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

const get = (path: string): RecordedRequest => ({ method: 'GET', path, headers: {} });
const count = (values: string[]) =>
  values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

describe('runLoadTest', () => {
  it('sends the asked rate: 200 requests/s for 2 s is 400 requests, evenly spaced', async () => {
    const progress: number[] = [];
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/slow')],
      rate: 200,
      durationMs: 2000,
      connections: 10,
      onProgress: (sent) => progress.push(sent),
    });
    expect(seen.length).toBeGreaterThanOrEqual(360);
    expect(seen.length).toBeLessThanOrEqual(440);
    expect(figures.requests).toBe(seen.length);
    expect(figures).toMatchObject({
      targetRps: 200,
      errorRate: 0,
      transportErrors: 0,
      statuses: { '2xx': figures.requests },
    });
    // Answered over at least the 2 s asked for: never above the rate, and near it unless the machine stalls.
    expect(figures.throughputRps).toBeLessThanOrEqual(200);
    expect(figures.throughputRps).toBeGreaterThan(150);
    // Spaced evenly, not all at once: the 201st request is meant to start 1 s after the first (less the
    // time the first took to arrive on a busy machine, where the first requests also meet a cold target).
    expect(seen[200].at - seen[0].at).toBeGreaterThan(500);
    // Ten connections for an answer every 5 ms: a free one is there when a request is due, unless the
    // process stalls for over 50 ms (this target shares the generator's event loop, and the machine may be
    // busy) and more than ten fall due at once; the next test makes requests late on purpose.
    expect(figures.lateRequests).toBeGreaterThanOrEqual(0);
    expect(figures.lateRequests).toBeLessThanOrEqual(figures.requests);
    // The target waits 5 ms before answering.
    const { p50, p90, p99, max } = figures.latencyMs;
    expect(p50).toBeGreaterThanOrEqual(5);
    expect(p50 <= p90 && p90 <= p99 && p99 <= max).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toBeGreaterThanOrEqual(200);
  });

  it('counts latency from the intended start when every connection is busy (coordinated omission corrected)', async () => {
    // 50 requests/s on one connection to an endpoint that answers in 50 ms: it carries 20 a second, so
    // requests queue behind one another and go out later and later.
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/slower')],
      rate: 50,
      durationMs: 1000,
      connections: 1,
    });
    expect(figures).toMatchObject({ requests: 50, targetRps: 50, errorRate: 0, statuses: { '2xx': 50 } });
    // All but the first found the connection busy at their intended start.
    expect(figures.lateRequests).toBeGreaterThanOrEqual(45);
    // Each took about 50 ms from its write...
    expect(figures.serviceLatencyMs!.p50).toBeGreaterThanOrEqual(50);
    // ...but the last, meant to start at 980 ms, was written at about 2.45 s: its latency holds the wait.
    expect(figures.latencyMs.max).toBeGreaterThan(1400);
    expect(figures.latencyMs.p50).toBeGreaterThan(500);
    expect(figures.latencyMs.p99).toBeGreaterThan(figures.serviceLatencyMs!.p99);
    // What the endpoint answered over the 2.5 s it took: the shortfall shows.
    expect(figures.durationMs).toBeGreaterThanOrEqual(2400);
    expect(figures.throughputRps).toBeLessThan(25);
  });

  it('gives an endpoint that cannot keep up the timeout beyond the duration, and says what was never sent', async () => {
    // 5 requests/s on one connection to an endpoint that never answers: the first times out at 2 s, the
    // second goes out then, and at 1 s + 2 s the test ends with it in flight and three never sent.
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/hang')],
      rate: 5,
      durationMs: 1000,
      connections: 1,
      timeoutMs: 2000,
    });
    expect(figures).toMatchObject({ requests: 1, transportErrors: 1, lateRequests: 1, unsentRequests: 3 });
    expect(figures.durationMs).toBeGreaterThanOrEqual(2000);
  });

  it('goes through the recording in order, and shares it evenly among connections', async () => {
    const recording = Array.from({ length: 8 }, (_, i) => get(`/r${i}`));
    await runLoadTest({ endpoint, requests: recording.slice(0, 5), rate: 12, durationMs: 1000, connections: 1 });
    expect(seen.map((s) => s.url)).toEqual([
      '/r0',
      '/r1',
      '/r2',
      '/r3',
      '/r4',
      '/r0',
      '/r1',
      '/r2',
      '/r3',
      '/r4',
      '/r0',
      '/r1',
    ]);
    seen.length = 0;
    await runLoadTest({ endpoint, requests: recording, rate: 40, durationMs: 1000, connections: 4 });
    expect(count(seen.map((s) => s.url))).toEqual(Object.fromEntries(recording.map((r) => [r.path, 5])));
  });

  it('opens a connection again after the server closed it, and reads chunked answers to their end', async () => {
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/close'), get('/chunked'), get('/ok')],
      rate: 30,
      durationMs: 1000,
      connections: 2,
    });
    expect(figures).toMatchObject({ requests: 30, errorRate: 0, transportErrors: 0, statuses: { '2xx': 30 } });
    expect(count(seen.map((s) => s.url))).toEqual({ '/close': 10, '/chunked': 10, '/ok': 10 });
  });

  it('counts 5xx answers into the error rate, and 4xx not', async () => {
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/ok'), get('/fail'), get('/missing'), get('/ok')],
      rate: 20,
      durationMs: 1000,
      connections: 1,
    });
    expect(figures).toMatchObject({
      requests: 20,
      errorRate: 0.25,
      transportErrors: 0,
      statuses: { '2xx': 10, '4xx': 5, '5xx': 5 },
    });
  });

  it('delivers methods, headers and UTF-8 bodies intact, with the generator owning host and length', async () => {
    const recording = parseRecordedTraffic(
      [
        '{"method":"POST","path":"/orders","headers":{"content-type":"application/json","Host":"shop.example.com","content-length":"3"},"body":"{\\"customer\\":\\"محمد\\",\\"note\\":\\"결제 완료\\"}"}',
        '{"method":"PUT","path":"/profile/7","headers":{"accept-language":"ko-KR","x-trace":"abc"},"json":{"name":"김민준","city":"서울"}}',
        '{"method":"GET","path":"/search?q=결제","headers":{"user-agent":"Mozilla/5.0"}}',
        '{"method":"DELETE","path":"/orders/9"}',
        '{"method":"PATCH","path":"/orders/9","body":"السلام عليكم"}',
      ].join('\n'),
      'utf8.jsonl',
    );
    const figures = await runLoadTest({ endpoint, requests: recording, rate: 5, durationMs: 1000, connections: 1 });
    expect(figures.requests).toBe(5);
    expect(seen.map(({ method, url, body }) => ({ method, url, body }))).toEqual([
      { method: 'POST', url: '/orders', body: '{"customer":"محمد","note":"결제 완료"}' },
      { method: 'PUT', url: '/profile/7', body: '{"name":"김민준","city":"서울"}' },
      { method: 'GET', url: '/search?q=%EA%B2%B0%EC%A0%9C', body: '' },
      { method: 'DELETE', url: '/orders/9', body: '' },
      { method: 'PATCH', url: '/orders/9', body: 'السلام عليكم' },
    ]);
    expect(seen[0].headers).toMatchObject({
      'content-type': 'application/json',
      host: endpoint.replace('http://', ''),
      'content-length': String(Buffer.byteLength(seen[0].body)),
    });
    expect(seen[1].headers).toMatchObject({
      'content-type': 'application/json',
      'accept-language': 'ko-KR',
      'x-trace': 'abc',
    });
    expect(seen[2].headers['user-agent']).toBe('Mozilla/5.0');
  });

  it('leaves out HEAD requests, which it cannot replay, and says so', async () => {
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/a'), { method: 'HEAD', path: '/h', headers: {} }],
      rate: 4,
      durationMs: 1000,
    });
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET', 'GET']);
    expect(figures.skipped).toBe(
      '1 of 2 recorded requests left out: HEAD (1); the load generator replays only GET, POST, PUT, PATCH, DELETE, OPTIONS',
    );
    await expect(
      runLoadTest({ endpoint, requests: [{ method: 'HEAD', path: '/h', headers: {} }], rate: 4, durationMs: 1000 }),
    ).rejects.toThrow(InvalidInputError);
  });

  it('counts an endpoint that does not answer as transport errors', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const gone = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const figures = await runLoadTest({
      endpoint: gone,
      requests: [get('/')],
      rate: 10,
      durationMs: 1000,
      connections: 2,
    });
    expect(figures.requests).toBeGreaterThan(0);
    expect(figures).toMatchObject({
      errorRate: 1,
      transportErrors: figures.requests,
      statuses: {},
      latencyMs: { p50: 0, p90: 0, p99: 0, max: 0 },
    });
  });

  it('counts a request that times out as a transport error', async () => {
    const figures = await runLoadTest({
      endpoint,
      requests: [get('/hang')],
      rate: 1,
      durationMs: 1000,
      timeoutMs: 2000,
    });
    expect(figures).toMatchObject({ requests: 1, errorRate: 1, transportErrors: 1 });
    expect(figures.durationMs).toBeGreaterThanOrEqual(2000);
  });

  it('stops when aborted, rejecting with the reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('release aborted')), 300);
    await expect(
      runLoadTest({ endpoint, requests: [get('/')], rate: 50, durationMs: 10_000, signal: controller.signal }),
    ).rejects.toThrow('release aborted');
    expect(seen.length).toBeLessThanOrEqual(60);
  });

  it('refuses options it cannot honour, saying what to give', async () => {
    const base = { endpoint, requests: [get('/')], durationMs: 1000 };
    await expect(runLoadTest({ ...base, rate: 2.5 })).rejects.toThrow(
      'load test rate 2.5 is not a whole number of requests per second: give 1 or more, such as 50',
    );
    await expect(runLoadTest({ ...base, rate: 10, timeoutMs: 1000 })).rejects.toThrow(
      'load test timeout 1000ms is under 2s: give 2s or more',
    );
    await expect(runLoadTest({ ...base, rate: 10, endpoint: 'shop-api:8080' })).rejects.toThrow(
      /is not an http\(s\) URL/,
    );
    await expect(runLoadTest({ ...base, rate: 10, connections: 0 })).rejects.toThrow(InvalidInputError);
    expect(seen).toEqual([]);
  });
});

describe('runUnthrottledLoadTest', () => {
  it('sends as fast as the connections go', async () => {
    const figures = await runUnthrottledLoadTest({
      endpoint,
      requests: [get('/a'), get('/b')],
      durationMs: 1000,
      connections: 4,
    });
    expect(figures.targetRps).toBe(0);
    expect(figures.requests).toBeGreaterThan(500);
    expect(figures.errorRate).toBe(0);
    expect(figures.throughputRps).toBeGreaterThan(500);
    expect(figures.durationMs).toBeGreaterThanOrEqual(1000);
    expect(seen.length).toBeGreaterThanOrEqual(figures.requests);
  });
});
