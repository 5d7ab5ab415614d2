import { encodeRequest, planReplay } from '../../../src/infra/load/replay-requests';
import type { RecordedRequest } from '../../../src/domain/recorded-traffic';

const get = (path: string): RecordedRequest => ({ method: 'GET', path, headers: {} });
const text = (plan: ReturnType<typeof planReplay>) => plan.requests.map((r) => r.toString('utf8'));

describe('planReplay', () => {
  it("encodes each request once, in the recording's order, for the endpoint's host", () => {
    const plan = planReplay(['/0', '/1', '/2'].map(get), 'shop-api.staging:8080');
    expect(text(plan)).toEqual([
      'GET /0 HTTP/1.1\r\nhost: shop-api.staging:8080\r\n\r\n',
      'GET /1 HTTP/1.1\r\nhost: shop-api.staging:8080\r\n\r\n',
      'GET /2 HTTP/1.1\r\nhost: shop-api.staging:8080\r\n\r\n',
    ]);
    expect(plan).toMatchObject({ replayed: 3, skipped: undefined });
  });

  it('leaves out methods the generator cannot replay and says which', () => {
    const plan = planReplay(
      [
        get('/a'),
        { method: 'HEAD', path: '/', headers: {} },
        { method: 'HEAD', path: '/x', headers: {} },
        { method: 'PROPFIND', path: '/d', headers: {} },
      ],
      'h',
    );
    expect(text(plan)).toEqual(['GET /a HTTP/1.1\r\nhost: h\r\n\r\n']);
    expect(plan.skipped).toBe(
      '3 of 4 recorded requests left out: HEAD (2), PROPFIND (1); the load generator replays only GET, POST, PUT, PATCH, DELETE, OPTIONS',
    );
    expect(planReplay([{ method: 'HEAD', path: '/', headers: {} }], 'h')).toMatchObject({ requests: [], replayed: 0 });
  });
});

describe('encodeRequest', () => {
  it('drops headers of the recorded connection, keeps the rest and owns the length of a UTF-8 body', () => {
    const bytes = encodeRequest(
      {
        method: 'POST',
        path: '/orders',
        headers: {
          host: 'shop.example.com',
          'Content-Length': '9',
          connection: 'close',
          'content-type': 'application/json',
          'x-trace': '1',
        },
        body: '{"a":"한"}',
      },
      '127.0.0.1:8080',
    );
    expect(bytes.toString('utf8')).toBe(
      'POST /orders HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: application/json\r\nx-trace: 1\r\ncontent-length: 11\r\n\r\n{"a":"한"}',
    );
  });

  it('sends an empty body of a method that carries one as length 0, and none with GET', () => {
    expect(encodeRequest({ method: 'PUT', path: '/p', headers: {} }, 'h').toString()).toBe(
      'PUT /p HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n',
    );
    expect(encodeRequest({ method: 'DELETE', path: '/p', headers: {}, body: '' }, 'h').toString()).toBe(
      'DELETE /p HTTP/1.1\r\nhost: h\r\n\r\n',
    );
  });
});
