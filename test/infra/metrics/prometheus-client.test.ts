import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { queryInstant, queryRange } from '../../../src/infra/metrics/prometheus-client';

/** A stand-in for Prometheus' HTTP API: answers each query with what `answers` holds for it. */
type Answer = { status?: number; body: unknown; delayMs?: number };
const answers = new Map<string, Answer>();
const asked: URLSearchParams[] = [];
let server: Server;
let base: string;

const vector = (...series: [Record<string, string>, string][]) => ({
  status: 'success',
  data: { resultType: 'vector', result: series.map(([metric, v]) => ({ metric, value: [1764147600.123, v] })) },
});
const matrix = (...series: [Record<string, string>, string[]][]) => ({
  status: 'success',
  data: {
    resultType: 'matrix',
    result: series.map(([metric, vs]) => ({ metric, values: vs.map((v, i) => [1764147600 + 15 * i, v]) })),
  },
});

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    asked.push(url.searchParams);
    const answer = url.pathname.startsWith('/api/v1/query')
      ? answers.get(url.searchParams.get('query') ?? '')
      : undefined;
    const send = () => {
      if (!answer) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(text);
    };
    if (answer?.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  answers.clear();
  asked.length = 0;
});

describe('queryInstant', () => {
  it('returns the value of a single-sample vector and passes the evaluation time', async () => {
    answers.set('sum(rate(cpu[30s]))', { body: vector([{}, '0.25']) });
    await expect(
      queryInstant(`${base}/`, 'sum(rate(cpu[30s]))', { time: new Date('2026-11-26T09:00:00.500Z') }),
    ).resolves.toBe(0.25);
    expect(asked[0].get('time')).toBe(String(Date.parse('2026-11-26T09:00:00.500Z') / 1000));
  });

  it('returns a scalar', async () => {
    answers.set('scalar(up)', {
      body: { status: 'success', data: { resultType: 'scalar', result: [1764147600, '3'] } },
    });
    await expect(queryInstant(base, 'scalar(up)')).resolves.toBe(3);
  });

  it('returns undefined for an empty result or NaN, and infinities as they are', async () => {
    answers.set('nothing', { body: vector() });
    answers.set('nan', { body: vector([{}, 'NaN']) });
    answers.set('inf', { body: vector([{}, '+Inf']) });
    await expect(queryInstant(base, 'nothing')).resolves.toBeUndefined();
    await expect(queryInstant(base, 'nan')).resolves.toBeUndefined();
    await expect(queryInstant(base, 'inf')).resolves.toBe(Infinity);
  });

  it('refuses a result of several series, naming the query and the series', async () => {
    answers.set('rate(cpu[30s])', { body: vector([{ pod: 'a' }, '0.1'], [{ pod: 'b' }, '0.2']) });
    await expect(queryInstant(base, 'rate(cpu[30s])')).rejects.toThrow(
      'Prometheus query rate(cpu[30s]) matched 2 series ({pod="a"}, {pod="b"}), expected one: aggregate it, e.g. sum(...), or narrow its labels',
    );
  });

  it("passes on Prometheus' own error text", async () => {
    answers.set('sum(', {
      status: 400,
      body: {
        status: 'error',
        errorType: 'bad_data',
        error: 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis',
      },
    });
    await expect(queryInstant(base, 'sum(')).rejects.toThrow(
      'Prometheus refused query sum( (bad_data): invalid parameter "query": 1:5: parse error: unclosed left parenthesis',
    );
  });

  it('says when the answer is not the Prometheus API', async () => {
    await expect(queryInstant(base, 'up')).rejects.toThrow(
      `Prometheus at ${base} answered query up with HTTP 404 and no JSON: 404 page not found`,
    );
  });

  it('says when Prometheus does not answer in time or at all', async () => {
    answers.set('slow', { body: vector([{}, '1']), delayMs: 500 });
    await expect(queryInstant(base, 'slow', { timeoutMs: 50 })).rejects.toThrow(
      `Prometheus at ${base} did not answer query slow within 50ms`,
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const gone = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(queryInstant(gone, 'up')).rejects.toThrow(
      `no answer from Prometheus at ${gone} for query up: ECONNREFUSED`,
    );
  });
});

describe('queryRange', () => {
  it("returns the single series' values with NaN dropped, asking for the range and step", async () => {
    answers.set('process_resident_memory_bytes{job="shop"}', {
      body: matrix([{ job: 'shop' }, ['100', 'NaN', '250.5', '200']]),
    });
    const start = new Date('2026-11-26T09:00:00Z');
    const values = await queryRange(
      base,
      'process_resident_memory_bytes{job="shop"}',
      start,
      new Date(start.getTime() + 45_000),
      15,
    );
    expect(values).toEqual([100, 250.5, 200]);
    const seconds = start.getTime() / 1000;
    expect(Object.fromEntries(asked[0])).toMatchObject({
      start: String(seconds),
      end: String(seconds + 45),
      step: '15',
    });
  });

  it('returns nothing for an empty result and refuses several series', async () => {
    answers.set('none', { body: matrix() });
    answers.set('many', {
      body: matrix([{ pod: 'a' }, ['1']], [{ pod: 'b' }, ['2']], [{ pod: 'c' }, ['3']], [{ pod: 'd' }, ['4']]),
    });
    await expect(queryRange(base, 'none', new Date(0), new Date(60_000), 15)).resolves.toEqual([]);
    await expect(queryRange(base, 'many', new Date(0), new Date(60_000), 15)).rejects.toThrow(
      'Prometheus query many matched 4 series ({pod="a"}, {pod="b"}, {pod="c"} and 1 more), expected one',
    );
  });
});
