import { planReplay } from '../../../src/infra/load/replay-requests';
import type { RecordedRequest } from '../../../src/domain/recorded-traffic';

const get = (path: string): RecordedRequest => ({ method: 'GET', path, headers: {} });
const paths = (plan: ReturnType<typeof planReplay>) => plan.perConnection.map((c) => c.map((r) => r.path));

describe('planReplay', () => {
  it('deals the recording out to the connections so that each round goes on in order', () => {
    const plan = planReplay(['/0', '/1', '/2', '/3', '/4', '/5', '/6'].map(get), 3);
    expect(paths(plan)).toEqual([
      ['/0', '/3', '/6'],
      ['/1', '/4'],
      ['/2', '/5'],
    ]);
    expect(plan).toMatchObject({ replayed: 7, skipped: undefined });
  });

  it('with fewer requests than connections, starts each connection at its own place', () => {
    expect(paths(planReplay(['/a', '/b'].map(get), 3))).toEqual([
      ['/a', '/b'],
      ['/b', '/a'],
      ['/a', '/b'],
    ]);
  });

  it('drops headers of the recorded connection and keeps the rest', () => {
    const plan = planReplay(
      [
        {
          method: 'POST',
          path: '/orders',
          headers: {
            host: 'shop.example.com',
            'content-length': '9',
            connection: 'close',
            'content-type': 'application/json',
            'x-trace': '1',
          },
          body: '{"a":"한"}',
        },
      ],
      1,
    );
    expect(plan.perConnection[0][0]).toEqual({
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json', 'x-trace': '1' },
      body: '{"a":"한"}',
    });
  });

  it('leaves out methods the generator cannot replay and says which', () => {
    const plan = planReplay(
      [
        get('/a'),
        { method: 'HEAD', path: '/', headers: {} },
        { method: 'HEAD', path: '/x', headers: {} },
        { method: 'PROPFIND', path: '/d', headers: {} },
      ],
      2,
    );
    expect(paths(plan)).toEqual([['/a'], ['/a']]);
    expect(plan.skipped).toBe(
      '3 of 4 recorded requests left out: HEAD (2), PROPFIND (1); the load generator replays only GET, POST, PUT, PATCH, DELETE, OPTIONS',
    );
    expect(planReplay([{ method: 'HEAD', path: '/', headers: {} }], 2)).toMatchObject({
      perConnection: [],
      replayed: 0,
    });
  });
});
