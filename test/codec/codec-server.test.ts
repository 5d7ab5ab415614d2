import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../../src/codec/codec-server';

const uiOrigin = 'http://127.0.0.1:8233';
const token = 'codec-token-1234';
const codec = new AesGcmPayloadCodec([{ id: 'k1', key: randomBytes(32) }]);

/** A payload in the codec server protocol's JSON form: metadata values and data as base64. */
function toJson(value: unknown) {
  const p = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v as Uint8Array).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  };
}

function fromJson(p: { metadata: Record<string, string>; data: string }): unknown {
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  });
}

describe('the codec server', () => {
  let open: CodecServer;
  let guarded: CodecServer;

  beforeAll(async () => {
    open = await startCodecServer({ port: 0, codec, origins: [uiOrigin] });
    guarded = await startCodecServer({ port: 0, codec, origins: [uiOrigin], token, maxBodyBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await open?.close();
    await guarded?.close();
  });

  const post = (server: CodecServer, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('listens on 127.0.0.1 unless told otherwise', () => {
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('encodes and decodes in the protocol the Web UI and temporal CLI speak', async () => {
    const values = [{ releaseId: 'release-shop-api-2.4.0' }, 'hello'];
    const encodedRes = await post(open, '/encode', { payloads: values.map(toJson) });
    expect(encodedRes.status).toBe(200);
    const encoded = (await encodedRes.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(encoded.payloads).toHaveLength(2);
    expect(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded.payloads[0].data, 'base64').toString()).not.toContain('shop-api');

    const decodedRes = await post(open, '/decode', encoded, { origin: uiOrigin });
    expect(decodedRes.status).toBe(200);
    expect(decodedRes.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const decoded = (await decodedRes.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(decoded.payloads.map(fromJson)).toEqual(values);
  });

  it('decodes plain payloads as they are, and an empty list to an empty list', async () => {
    const res = await post(open, '/decode', { payloads: [toJson('plain')] });
    expect(((await res.json()) as { payloads: never[] }).payloads.map(fromJson)).toEqual(['plain']);
    expect(await (await post(open, '/decode', { payloads: [] })).json()).toEqual({ payloads: [] });
  });

  it("answers the UI's CORS preflight for its origin with the headers it sends, without asking for the token", async () => {
    const res = await fetch(`${guarded.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: uiOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    for (const h of ['content-type', 'x-namespace', 'authorization'])
      expect(res.headers.get('access-control-allow-headers')).toContain(h);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('gives other origins no CORS headers', async () => {
    const preflight = await fetch(`${open.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await post(open, '/decode', { payloads: [] }, { origin: 'http://evil.example' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('401 without the bearer token or with a wrong one; 200 with it', async () => {
    expect((await post(guarded, '/decode', { payloads: [] })).status).toBe(401);
    const wrong = await post(guarded, '/decode', { payloads: [] }, { authorization: 'Bearer codec-token-1235' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(guarded, '/decode', { payloads: [] }, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('413 for a body over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ payloads: [{ metadata: {}, data: Buffer.alloc(100 * 1024).toString('base64') }] });
    const declared = await post(guarded, '/decode', big, { authorization: `Bearer ${token}` });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: string }).error).toMatch(/body larger than 65536 bytes/);

    // Chunked: no content-length, so the server counts as it reads.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${guarded.url}/decode`,
        { method: 'POST', headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(8 * 1024, 'a'));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('400 for bad JSON or a wrong shape, with a short message that never repeats the body', async () => {
    const notJson = await post(open, '/decode', '{"payloads": [secret-looking-text');
    expect(notJson.status).toBe(400);
    const message = ((await notJson.json()) as { error: string }).error;
    expect(message).toMatch(/^body is not JSON/);
    expect(message).not.toContain('secret-looking-text');
    expect((await post(open, '/decode', { nope: 1 })).status).toBe(400);
    const badBase64 = await post(open, '/encode', { payloads: [{ metadata: { encoding: 'not base64!' }, data: '' }] });
    expect(badBase64.status).toBe(400);
    expect(((await badBase64.json()) as { error: string }).error).toBe(
      'payloads[0].metadata["encoding"] must be a base64 string',
    );
  });

  it('400 naming the key id when a payload was encrypted with a key it does not have', async () => {
    const other = new AesGcmPayloadCodec([{ id: 'k0', key: randomBytes(32) }]);
    const [p] = await other.encode([defaultPayloadConverter.toPayload('x')]);
    const json = {
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v as Uint8Array).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    };
    const res = await post(open, '/decode', { payloads: [json] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/key "k0", which is not configured/);
  });

  it('404 for other paths, 405 for other methods', async () => {
    expect((await post(open, '/other', {})).status).toBe(404);
    expect((await fetch(`${open.url}/decode`)).status).toBe(405);
  });
});

describe('meridian codec-server', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv) => {
    const { runCli } = await import('../../src/client/main');
    let err = '';
    const code = await runCli(['codec-server', ...argv], { out: () => undefined, err: (t) => (err += t), env });
    return { code, err };
  };
  const keys = { MERIDIAN_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}` };

  it('refuses to start without keys, with exit 2 and what to set', async () => {
    const { code, err } = await run([], {});
    expect(code).toBe(2);
    expect(err).toMatch(/needs MERIDIAN_CODEC_KEYS or MERIDIAN_CODEC_KEYS_FILE/);
  });

  it.each([
    [['--port', 'http'], /--port: expected a port number from 0 to 65535, got "http"/],
    [['--ui-origin', 'localhost:8233'], /--ui-origin "localhost:8233"/],
    [['--token-file', '/nonexistent/token'], /--token-file \/nonexistent\/token does not exist/],
  ])('refuses %j with exit 2', async (argv, message) => {
    const { code, err } = await run(argv, keys);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});
