import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidInputError } from '../../src/domain/errors';
import { parseRecordedTraffic, withoutCredentials } from '../../src/domain/recorded-traffic';

const examples = resolve(__dirname, '..', '..', 'examples', 'traffic');
const read = (name: string) => readFileSync(resolve(examples, name), 'utf8');

/** The error parseRecordedTraffic throws for `text`, with the problems its message lists. */
function failure(text: string, format?: 'jsonl' | 'combined'): { message: string; problems: string[] } {
  try {
    parseRecordedTraffic(text, 'traffic.txt', format);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    const message = (err as Error).message;
    return {
      message,
      problems: message
        .split('\n')
        .slice(1)
        .map((l) => l.trim()),
    };
  }
  throw new Error('expected an error');
}

describe('parseRecordedTraffic: JSON Lines', () => {
  it('reads the example recording with methods, headers and bodies', () => {
    const requests = parseRecordedTraffic(read('sample.jsonl'), 'sample.jsonl');
    expect(requests).toHaveLength(5);
    expect(requests[1]).toEqual({
      method: 'GET',
      path: '/search?q=%EA%B2%B0%EC%A0%9C',
      headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)' },
    });
    expect(requests[2]).toEqual({
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      body: '{"customer":"محمد","items":[{"sku":"A-1","qty":2}]}',
    });
    expect(requests[4]).toEqual({ method: 'GET', path: '/healthz', headers: {} });
  });

  it('sends json as JSON text with a content type, keeping one that was given', () => {
    const text = [
      '{"method":"post","path":"/orders","json":{"customer":"김민준","qty":1},"ts":"2026-11-26T09:00:00Z"}',
      '',
      '{"method":"PUT","path":"/orders/1","headers":{"Content-Type":"application/merge-patch+json"},"json":{"qty":2}}',
    ].join('\r\n');
    expect(parseRecordedTraffic(text, 'orders.jsonl')).toEqual([
      {
        method: 'POST',
        path: '/orders',
        headers: { 'content-type': 'application/json' },
        body: '{"customer":"김민준","qty":1}',
      },
      {
        method: 'PUT',
        path: '/orders/1',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: '{"qty":2}',
      },
    ]);
  });

  it('percent-encodes a path written in any script and takes the path of a full URL', () => {
    const text = [
      '{"method":"GET","path":"/search?q=결제 카드"}',
      '{"method":"GET","path":"https://shop.example.com/search?q=%D8%AF#top"}',
    ].join('\n');
    expect(parseRecordedTraffic(text, 'x.jsonl').map((r) => r.path)).toEqual([
      '/search?q=%EA%B2%B0%EC%A0%9C%20%EC%B9%B4%EB%93%9C',
      '/search?q=%D8%AF',
    ]);
  });

  it('reports every bad line with its number, what is wrong and the fix', () => {
    const text = [
      '{"method":"GET","path":"/ok"}',
      '{"method":"GET","path":"search"}',
      'GET /not-json',
      '{"path":"/no-method"}',
      '[1, 2]',
      '{"method":"GET","path":"/h","headers":{"x-count":5,"bad name":"v"}}',
      '{"method":"POST","path":"/b","body":"x","json":{"x":1}}',
      '{"method":"GET","path":"/split","headers":{"x-a":"1\\r\\nx-b: 2"}}',
    ].join('\n');
    const err = failure(text);
    expect(err.problems).toEqual([
      'traffic.txt:2: the path "search" does not start with /: give a path such as /search?q=1 (or a full http(s) URL)',
      expect.stringMatching(
        /^traffic\.txt:3: not valid JSON \(.*\): write one object per line, such as \{"method":"GET","path":"\/healthz"\}$/,
      ),
      'traffic.txt:4: method: missing: add this field (a string)',
      'traffic.txt:5: not a JSON object: write one object per line, such as {"method":"GET","path":"/healthz"}',
      'traffic.txt:6: headers["x-count"]: expected a string, got 5',
      'traffic.txt:7: both body and json are given: keep one (json is sent as JSON text)',
      'traffic.txt:8: header x-a holds a line break or NUL: a header value is one line',
    ]);
    expect(err.message).toMatch(/^recorded traffic traffic\.txt \(JSON Lines\) has 7 problems:\n {2}traffic\.txt:2: /);
  });

  it('lists ten problems in the message and counts the rest', () => {
    const text = Array.from({ length: 14 }, () => '{"method":"GET","path":"nope"}').join('\n');
    const lines = failure(text).message.split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[10]).toBe(
      '  traffic.txt:10: the path "nope" does not start with /: give a path such as /search?q=1 (or a full http(s) URL)',
    );
    expect(lines[11]).toBe('  and 4 more');
  });

  it('refuses a recording without a request', () => {
    expect(failure('\n\n  \n', 'jsonl').message).toBe(
      'recorded traffic traffic.txt holds no request: give at least one JSON line such as {"method":"GET","path":"/"}',
    );
    expect(failure('').message).toMatch(/holds no request/);
  });
});

describe('parseRecordedTraffic: access logs', () => {
  it('reads the example combined log, skipping the line that holds no request', () => {
    const requests = parseRecordedTraffic(read('access.log'), 'access.log');
    expect(requests).toHaveLength(9);
    expect(requests[0]).toEqual({
      method: 'GET',
      path: '/catalog?lang=en',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)', referer: 'https://shop.example.com/' },
    });
    expect(requests[1].path).toBe('/search?q=%EA%B2%B0%EC%A0%9C');
    expect(decodeURIComponent(requests[1].path.split('=')[1])).toBe('결제');
    expect(requests[2]).toEqual({
      method: 'GET',
      path: '/search?q=%D8%AF%D9%81%D8%B9',
      headers: { 'user-agent': 'Mozilla/5.0 (Linux; Android 15)' },
    });
    expect(requests[3]).toMatchObject({ method: 'POST', path: '/orders' });
    expect(requests.every((r) => r.body === undefined)).toBe(true);
  });

  it('reads the common format, which has no referer or user agent', () => {
    const line = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326';
    expect(parseRecordedTraffic(line, 'common.log')).toEqual([
      { method: 'GET', path: '/apache_pb.gif?x=1', headers: {} },
    ]);
  });

  it('reads the classic combined example and ignores fields a custom format appends', () => {
    const line =
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)" "10.1.1.1" 0.004';
    expect(parseRecordedTraffic(line, 'combined.log')).toEqual([
      {
        method: 'GET',
        path: '/apache_pb.gif?x=1',
        headers: { referer: 'http://www.example.com/start.html', 'user-agent': 'Mozilla/4.08 [en] (Win98; I ;Nav)' },
      },
    ]);
  });

  it('undoes the escapes of nginx and Apache and percent-encodes raw bytes of a path', () => {
    const lines = [
      // nginx: " as \x22, raw UTF-8 bytes of the path as \xHH
      '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET /search?q=\\xEA\\xB2\\xB0\\xEC\\xA0\\x9C HTTP/1.1" 200 10 "-" "agent \\x22quoted\\x22"',
      // Apache: \" and a full URL as the target (a request through a proxy)
      '10.0.0.2 - - [26/Nov/2026:09:00:01 +0000] "GET http://shop.example.com/catalog?lang=ar HTTP/1.1" 200 10 "-" "agent \\"quoted\\""',
      // a log written without escaping: raw UTF-8
      '10.0.0.3 - - [26/Nov/2026:09:00:02 +0000] "GET /search?q=دفع HTTP/1.1" 200 10 "https://shop.example.com/بحث" "curl/8"',
    ].join('\n');
    const [a, b, c] = parseRecordedTraffic(lines, 'escaped.log');
    expect(a).toEqual({
      method: 'GET',
      path: '/search?q=%EA%B2%B0%EC%A0%9C',
      headers: { 'user-agent': 'agent "quoted"' },
    });
    expect(b).toEqual({ method: 'GET', path: '/catalog?lang=ar', headers: { 'user-agent': 'agent "quoted"' } });
    expect(c).toEqual({
      method: 'GET',
      path: '/search?q=%D8%AF%D9%81%D8%B9',
      headers: { 'user-agent': 'curl/8', referer: 'https://shop.example.com/بحث' },
    });
  });

  it('reports lines that are not access log lines or hold no replayable request', () => {
    const text = [
      '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 10 "-" "-"',
      'this is not a log line',
      '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "\\x16\\x03\\x01\\x00\\xF1\\x01" 400 157 "-" "-"',
      '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "OPTIONS * HTTP/1.1" 200 0 "-" "-"',
      '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 10 "-" "evil\\x0d\\x0aX-Injected: 1"',
    ].join('\n');
    expect(failure(text).problems).toEqual([
      'traffic.txt:2: not an access log line in the combined or common format (host ident user [time] "GET /path HTTP/1.1" status bytes "referer" "user-agent"): fix or remove the line',
      'traffic.txt:3: the request "\\\\x16\\\\x03\\\\x01\\\\x00\\\\xF1\\\\x01" is not "METHOD /path HTTP/1.1": remove the line, it records no request that can be replayed',
      'traffic.txt:4: the path "*" does not start with /: give a path such as /search?q=1 (or a full http(s) URL)',
      'traffic.txt:5: header user-agent holds a line break or NUL: a header value is one line',
    ]);
  });

  it('takes the format asked for over the first line', () => {
    expect(failure('{"method":"GET","path":"/"}', 'combined').problems[0]).toMatch(
      /^traffic\.txt:1: not an access log line/,
    );
    expect(failure('10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 10', 'jsonl').problems[0]).toMatch(
      /^traffic\.txt:1: not valid JSON/,
    );
  });
});

describe('withoutCredentials', () => {
  it('drops credential headers, whatever their case, and counts them', () => {
    const { requests, dropped } = withoutCredentials([
      { method: 'GET', path: '/a', headers: { Authorization: 'Bearer x', 'user-agent': 'ua' } },
      { method: 'GET', path: '/b', headers: { cookie: 's=1', authorization: 'Basic y' } },
      { method: 'GET', path: '/c', headers: {} },
    ]);
    expect(requests.map((r) => r.headers)).toEqual([{ 'user-agent': 'ua' }, {}, {}]);
    expect([...dropped]).toEqual([
      ['authorization', 2],
      ['cookie', 1],
    ]);
  });
});

describe('withoutCredentials: the rule', () => {
  const one = (request: { path?: string; headers?: Record<string, string> }) =>
    withoutCredentials([{ method: 'GET', path: '/', headers: {}, ...request }]);

  it('drops API-key, token, session and cookie headers by name, and keeps the rest', () => {
    const headers = {
      'x-api-key': 'k1',
      'api-key': 'k2',
      'x-auth-token': 't1',
      'x-amz-security-token': 't2',
      'x-goog-api-key': 'k3',
      'proxy-authorization': 'Basic eA==',
      cookie: 's=1',
      'set-cookie': 's=2',
      'x-session-id': 's3',
      'x-client-secret': 's4',
      'x-user-password': 'p',
      'x-shop-credential': 'c',
      'accept-language': 'ko-KR',
      'user-agent': 'Mozilla/5.0',
      'content-type': 'application/json',
    };
    const { requests, dropped } = one({ headers });
    expect(requests[0].headers).toEqual({
      'accept-language': 'ko-KR',
      'user-agent': 'Mozilla/5.0',
      'content-type': 'application/json',
    });
    expect([...dropped.keys()].sort()).toEqual(Object.keys(headers).slice(0, 12).sort());
  });

  it('drops a header of any name whose value is a bearer or basic credential or a JWT', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const { requests, dropped } = one({
      headers: {
        'x-forwarded-user': 'Bearer abc.def',
        'x-upstream': 'basic dXNlcjpwYXNz',
        'x-context': `v=1; t=${jwt}`,
        'x-trace': 'Basically fine',
        'x-note': 'eyJ is not a token',
      },
    });
    expect(requests[0].headers).toEqual({ 'x-trace': 'Basically fine', 'x-note': 'eyJ is not a token' });
    expect([...dropped.keys()]).toEqual(['x-forwarded-user', 'x-upstream', 'x-context']);
  });

  it('drops credential query parameters of the path and of a recorded referer, keeping the others in order', () => {
    const { requests, dropped } = one({
      path: '/search?q=%EA%B2%B0%EC%A0%9C&access_token=a1&api_key=k&page=2&token=t&sig=s&X-Amz-Signature=x&password=p&client_secret=c&apiKey=k2&keyword=shoes&author=kim',
      headers: { referer: 'https://shop.example.com/cart?session=abc&lang=ko' },
    });
    expect(requests[0].path).toBe('/search?q=%EA%B2%B0%EC%A0%9C&page=2&keyword=shoes&author=kim');
    expect(requests[0].headers).toEqual({ referer: 'https://shop.example.com/cart?lang=ko' });
    expect([...dropped.keys()]).toEqual([
      'query parameter session',
      'query parameter access_token',
      'query parameter api_key',
      'query parameter token',
      'query parameter sig',
      'query parameter X-Amz-Signature',
      'query parameter password',
      'query parameter client_secret',
      'query parameter apiKey',
    ]);
  });

  it('reads query names percent-decoded, drops a parameter whose value is a JWT, and the ? when nothing is left', () => {
    const { requests } = one({ path: '/callback?api%5Fkey=k&state=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln' });
    expect(requests[0].path).toBe('/callback');
    expect(one({ path: '/orders?id=7' }).requests[0].path).toBe('/orders?id=7');
  });

  it('leaves nothing of a credential in what travels, from either recording format', () => {
    const jsonl =
      '{"method":"GET","path":"/a?token=SECRET1","headers":{"X-Api-Key":"SECRET2","Cookie":"SECRET3","x-foo":"Bearer SECRET4"}}';
    const log =
      '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET /b?api_key=SECRET5 HTTP/1.1" 200 1 "https://shop.example.com/?access_token=SECRET6" "curl/8"';
    const { requests } = withoutCredentials([
      ...parseRecordedTraffic(jsonl, 'a.jsonl'),
      ...parseRecordedTraffic(log, 'b.log'),
    ]);
    expect(JSON.stringify(requests)).not.toMatch(/SECRET/);
    expect(requests[1]).toEqual({
      method: 'GET',
      path: '/b',
      headers: { 'user-agent': 'curl/8', referer: 'https://shop.example.com/' },
    });
  });
});

describe('parseRecordedTraffic: hostile input', () => {
  it('takes headers named like Object.prototype members as headers, and none reaches the prototype', () => {
    const text =
      '{"method":"GET","path":"/","headers":{"constructor":"a","__proto__":"b","toString":"c","hasOwnProperty":"d"}}';
    const [request] = parseRecordedTraffic(text, 'x.jsonl');
    expect(Object.keys(request.headers)).toEqual(['constructor', '__proto__', 'tostring', 'hasownproperty']);
    expect(request.headers['__proto__']).toBe('b');
    expect(({} as Record<string, unknown>).b).toBeUndefined();
    const cleaned = withoutCredentials([request]).requests[0];
    expect(cleaned.headers.constructor).toBe('a');
  });

  it('still refuses a header given twice, and ignores a __proto__ field of the line', () => {
    expect(failure('{"method":"GET","path":"/","headers":{"Constructor":"a","constructor":"b"}}').problems).toEqual([
      'traffic.txt:1: header constructor is given twice (names are case-insensitive): keep one',
    ]);
    expect(parseRecordedTraffic('{"__proto__":{"body":"x"},"method":"GET","path":"/"}', 'x.jsonl')).toEqual([
      { method: 'GET', path: '/', headers: {} },
    ]);
  });

  it('refuses a 2 MB access log line at once, quoting only its start', () => {
    const start = '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET /';
    const line = `${start}${'a'.repeat(2 * 1024 * 1024)} HTTP/1.1" 200 10 "-" "-"`;
    // How fast it reads (and refuses) long lines is measured by the bench's parsing section, not here.
    const err = failure(`${line}\n10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 10`);
    expect(err.problems).toEqual([
      `traffic.txt:1: the line "10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] \\"GET /${'a'.repeat(80 - start.length)}…" (${line.length} characters) is longer than the 65536 characters a line of access log may have: remove it or cut it short`,
    ]);
  });

  it('reads or refuses the longest line it takes, however it is escaped or unterminated', () => {
    const room = 64 * 1024 - 200;
    const lines = [
      `10.0.0.1 - - [t] "GET /${'a'.repeat(room)} HTTP/1.1" 200 10 "-" "-"`,
      `10.0.0.1 - - [t] "GET /${'\\"'.repeat(room / 2)} HTTP/1.1" 200 10 "-" "-" x`,
      `10.0.0.1 - - [t] "GET /${'a'.repeat(room)} HTTP/1.1" 200 10 "-`,
      `10.0.0.1 - - [t] "${' '.repeat(room)}" 200 10`,
      `10.0.0.1 - - [t] "GET / HTTP/1.1" 200 10 "-" "${'eyJ'.repeat(room / 3)}"`,
    ];
    // Each is read or refused with a problem naming its line; the bench's parsing section times them.
    for (const line of lines) {
      try {
        parseRecordedTraffic(line, 'x.log');
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError);
        expect((err as Error).message).toMatch(/x\.log:1: /);
      }
    }
    expect(parseRecordedTraffic(lines[1], 'x.log')[0].path === `/${'"'.repeat(room / 2)}`).toBe(true);
    expect(parseRecordedTraffic(lines[2], 'x.log')[0].headers).toEqual({});
  });
});
