import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { watchBake } from '../../../src/infra/analysis/watch-bake';
import { emptyTally } from '../../../src/domain/bake-analysis';
import { analysisSchema } from '../../../src/domain/release-spec';

let server: Server;
let endpoint: string;
let healthy = true;
let served = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    served += 1;
    // A stand-in for Prometheus too: /api/v1/query answers the request count.
    if (req.url?.startsWith('/api/v1/query')) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '42'] }] },
        }),
      );
      return;
    }
    res.statusCode = healthy ? 200 : 503;
    res.end(healthy ? 'ok' : 'overloaded');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

// The schema asks for 1 s or more; the watch itself takes any interval, and 50 ms keeps these tests quick.
const quick = <T extends { interval: number }>(spec: T): T => ({ ...spec, interval: 50 });
const spec = quick(
  analysisSchema.parse({
    interval: '1s',
    failureLimit: 0,
    minSamples: 1,
    probes: [{ name: 'health', path: '/healthz' }],
  }),
);
const hooks = (checkpoints: number[] = []) => ({
  wait: async (ms: number) => (await new Promise((r) => setTimeout(r, ms)), true),
  checkpoint: (t: { measurements: number }) => void checkpoints.push(t.measurements),
});

describe('watchBake', () => {
  it('measures every interval until the window ends, checkpointing each measurement', async () => {
    healthy = true;
    const checkpoints: number[] = [];
    const startedAt = Date.now();
    const { tally, requests } = await watchBake(
      {
        analysis: spec,
        target: { endpoint, placeholders: {} },
        startedAt,
        until: startedAt + 400,
        final: false,
        tally: emptyTally,
      },
      hooks(checkpoints),
    );
    expect(tally.verdict).toBe('running');
    expect(tally.measurements).toBeGreaterThanOrEqual(5);
    expect(tally.measurements).toBeLessThanOrEqual(9);
    expect(tally.failed).toBe(0);
    expect(checkpoints).toEqual(Array.from({ length: tally.measurements }, (_, i) => i + 1));
    expect(requests).toBeUndefined();
    expect(Date.now()).toBeGreaterThanOrEqual(startedAt + 400);
  });

  it('stops at the first failed measurement instead of waiting for the window to end', async () => {
    healthy = false;
    const startedAt = Date.now();
    const { tally } = await watchBake(
      {
        analysis: spec,
        target: { endpoint, placeholders: {} },
        startedAt,
        until: startedAt + 60_000,
        final: true,
        tally: emptyTally,
      },
      hooks(),
    );
    expect(tally.verdict).toBe('failed');
    expect(tally.reason).toBe('1 failed measurement (limit 0): health: GET /healthz answered 503, expected 200');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('resumes from a checkpoint without measuring again what was measured', async () => {
    healthy = true;
    const startedAt = Date.now();
    const first = await watchBake(
      {
        analysis: spec,
        target: { endpoint, placeholders: {} },
        startedAt,
        until: startedAt + 120,
        final: false,
        tally: emptyTally,
      },
      hooks(),
    );
    const before = served;
    const again = await watchBake(
      {
        analysis: spec,
        target: { endpoint, placeholders: {} },
        startedAt,
        until: Date.parse(first.tally.last!.at) + 1,
        final: false,
        tally: first.tally,
      },
      hooks(),
    );
    expect(again.tally.measurements).toBe(first.tally.measurements);
    expect(served).toBe(before);
  });

  it('counts the requests of the bake on its last stretch, with the bake so far as the window', async () => {
    healthy = true;
    const withTraffic = quick(
      analysisSchema.parse({
        minSamples: 1,
        minRequests: { query: 'sum(increase(r{region="{{region}}"}[{{window}}]))', min: 10 },
        probes: [{ name: 'health', path: '/healthz' }],
      }),
    );
    const startedAt = Date.now() - 300_000;
    const { requests } = await watchBake(
      {
        analysis: withTraffic,
        target: { endpoint, prometheusUrl: endpoint, placeholders: { region: 'eu-west' } },
        startedAt,
        until: Date.now() + 60,
        final: true,
        tally: emptyTally,
      },
      hooks(),
    );
    expect(requests).toBe(42);
  });
});
