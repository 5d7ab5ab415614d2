import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { reportError } from '../../src/client/cli-errors';
import { UnreachableError } from '../../src/domain/errors';
import { connectClient } from '../../src/client/temporal';
import { loadTemporalConnectionConfig } from '../../src/temporal/connection-config';
import { explainTemporalFailure, TemporalCredentialError } from '../../src/temporal/connection-errors';
import { createMeridianWorker } from '../../src/worker/run-worker';

const apiKey = 'sekrit-api-key-0123456789';

/** A gRPC endpoint that answers every call with one status, as a frontend refusing a credential does. */
async function refusingServer(
  status: number,
  message: string,
): Promise<{ address: string; server: Http2Server; stop: () => void }> {
  const server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream) => {
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(status),
        'grpc-message': encodeURIComponent(message),
      },
      { endStream: true },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    for (const session of sessions) session.destroy();
    server.close();
  };
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, stop };
}

describe('a server that refuses the credential', () => {
  let unauthenticated: Awaited<ReturnType<typeof refusingServer>>;
  let denied: Awaited<ReturnType<typeof refusingServer>>;

  beforeAll(async () => {
    unauthenticated = await refusingServer(16, 'Request unauthorized.');
    denied = await refusingServer(7, 'Request unauthorized: namespace access denied');
  });
  afterAll(() => {
    unauthenticated?.stop();
    denied?.stop();
  });

  const connectError = (env: NodeJS.ProcessEnv) =>
    connectClient({ HOME: '/nonexistent', ...env }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );

  it("the client names the API key it sent, where it came from, and the server's words, never the key", async () => {
    const err = await connectError({
      TEMPORAL_ADDRESS: unauthenticated.address,
      TEMPORAL_API_KEY: apiKey,
      TEMPORAL_TLS: 'false',
    });
    expect(err).toBeInstanceOf(TemporalCredentialError);
    expect((err as TemporalCredentialError).exitCode).toBe(2);
    expect(err!.message).toBe(
      `Temporal at ${unauthenticated.address} refused the API key from TEMPORAL_API_KEY: Request unauthorized.: the key is invalid, expired, signed by a key the server does not trust, or has no access to namespace "default"; check it, or set another`,
    );
    expect(err!.message).not.toContain(apiKey);
  });

  it('says no credential was given when none was', async () => {
    const err = await connectError({ TEMPORAL_ADDRESS: unauthenticated.address });
    expect(err).toBeInstanceOf(TemporalCredentialError);
    expect(err!.message).toMatch(
      /asks for a credential and no credential was given: .*set TEMPORAL_API_KEY, or TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
  });

  it('PERMISSION_DENIED: names the key and what to check, the namespace among it', async () => {
    const err = await connectError({
      TEMPORAL_ADDRESS: denied.address,
      TEMPORAL_API_KEY: apiKey,
      TEMPORAL_TLS: 'false',
      TEMPORAL_NAMESPACE: 'prod.a1b2c',
    });
    expect(err!.message).toMatch(
      /refused the API key from TEMPORAL_API_KEY: .*: the key is invalid, expired, signed by a key the server does not trust, or has no access to namespace "prod.a1b2c"/,
    );
  });

  it("the worker's native connection is explained the same way", async () => {
    const err = await createMeridianWorker({
      address: unauthenticated.address,
      namespace: 'default',
      connection: { apiKey, tls: false, sources: { apiKey: 'TEMPORAL_API_KEY', tls: 'plaintext' } },
      helmPath: 'helm',
      logger: pino({ level: 'silent' }),
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(TemporalCredentialError);
    expect(err!.message).toBe(
      `Temporal at ${unauthenticated.address} refused the API key from TEMPORAL_API_KEY: Request unauthorized.: the key is invalid, expired, signed by a key the server does not trust, or has no access to namespace "default"; check it, or set another`,
    );
    expect(err!.message).not.toContain(apiKey);
  });

  it("the worker's native connection: PERMISSION_DENIED too", async () => {
    const err = await createMeridianWorker({
      address: denied.address,
      namespace: 'prod.a1b2c',
      connection: { apiKey, tls: false, sources: { apiKey: 'TEMPORAL_API_KEY', tls: 'plaintext' } },
      helmPath: 'helm',
      logger: pino({ level: 'silent' }),
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err!.message).toMatch(
      /refused the API key from TEMPORAL_API_KEY: Request unauthorized: namespace access denied: .*no access to namespace "prod.a1b2c"/,
    );
  });
});

describe('TLS to a server that does not speak it', () => {
  let plain: Awaited<ReturnType<typeof refusingServer>>;
  beforeAll(async () => {
    plain = await refusingServer(16, 'unused');
  });
  afterAll(() => plain?.stop());

  it('the client, which sees only a timeout, names the TLS settings beside the address (exit 3)', async () => {
    const err = await connectClient({
      HOME: '/nonexistent',
      TEMPORAL_ADDRESS: plain.address,
      TEMPORAL_TLS: 'true',
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err!.message).toMatch(
      /check the address and the TLS settings \(TLS with the system's CA certificates\); a server without TLS needs TEMPORAL_TLS=false, and one that requires mutual TLS also needs TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
  });

  it('the worker names the TLS settings', async () => {
    const err = await createMeridianWorker({
      address: plain.address,
      namespace: 'default',
      connection: { tls: true, sources: { tls: "TLS with the system's CA certificates" } },
      helmPath: 'helm',
      logger: pino({ level: 'silent' }),
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(TemporalCredentialError);
    expect(err!.message).toMatch(/^TLS with Temporal at .* failed: /);
  });
});

describe('reportError on a refusal from a later call (not the connect)', () => {
  const serviceError = (code: number, details: string) => {
    const cause = Object.assign(new Error(`${code} UNAUTHENTICATED: ${details}`), { code, details });
    return Object.assign(new Error('Failed to start Workflow'), { name: 'ServiceError', cause });
  };

  it('names the credential and profile, exit 2, no stack trace', () => {
    let out = '';
    const code = reportError(serviceError(16, 'Request unauthorized.'), (t) => (out += t), {
      HOME: '/nonexistent',
      TEMPORAL_ADDRESS: 'prod.a1b2c.tmprl.cloud:7233',
      TEMPORAL_API_KEY: apiKey,
    });
    expect(code).toBe(2);
    expect(out).toBe(
      'error: Temporal at prod.a1b2c.tmprl.cloud:7233 refused the API key from TEMPORAL_API_KEY: Request unauthorized.: the key is invalid, expired, signed by a key the server does not trust, or has no access to namespace "default"; check it, or set another\n',
    );
  });

  it('names the client certificate when that was the credential', () => {
    const config = loadTemporalConnectionConfig({ HOME: '/nonexistent', TEMPORAL_ADDRESS: 'temporal.internal:7233' });
    const explained = explainTemporalFailure(serviceError(16, 'bad cert'), {
      ...config,
      sources: { ...config.sources, clientCert: 'TEMPORAL_TLS_CLIENT_CERT_PATH' },
    });
    expect(explained?.message).toMatch(
      /^Temporal at temporal.internal:7233 refused the request made with the client certificate from TEMPORAL_TLS_CLIENT_CERT_PATH and no API key: bad cert: /,
    );
  });

  it('a TLS handshake failure names the TLS settings in force', () => {
    const config = loadTemporalConnectionConfig({
      HOME: '/nonexistent',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS: 'true',
    });
    const err = Object.assign(
      new Error(
        '14 UNAVAILABLE: No connection established. Last error: Error: SSL routines:ssl3_get_record:wrong version number',
      ),
      { code: 14 },
    );
    let out = '';
    expect(
      reportError(err, (t) => (out += t), {
        HOME: '/nonexistent',
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS: 'true',
      }),
    ).toBe(2);
    expect(out).toMatch(
      /^error: TLS with Temporal at temporal.internal:7233 failed: .*wrong version number: the connection used TLS with the system's CA certificates; check TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
    expect(explainTemporalFailure(err, config)).toBeInstanceOf(TemporalCredentialError);
  });

  it('an unreachable server is still exit 3 with what to do', () => {
    let out = '';
    const err = Object.assign(
      new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233'),
      { code: 14 },
    );
    expect(reportError(err, (t) => (out += t), { HOME: '/nonexistent' })).toBe(3);
    expect(out).toMatch(/^error: cannot reach Temporal at 127.0.0.1:7233 .*meridian dev up/);
  });

  it('bad connection config is exit 2, not a stack trace', async () => {
    let out = '';
    const err = await connectClient({ HOME: '/nonexistent', TEMPORAL_PROFILE: 'prod' }).catch((e: unknown) => e);
    expect(reportError(err, (t) => (out += t))).toBe(2);
    expect(out).toMatch(/^error: TEMPORAL_PROFILE is "prod"/);
  });
});
