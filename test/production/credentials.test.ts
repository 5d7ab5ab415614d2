import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rigJwtKeyId, signToken } from '../../src/rig/rig-credentials';
import { meridian } from '../support/cli';
import { rig, rigEnv } from '../support/e2e';
import { credentials } from '../support/production';

/**
 * The production profile's frontend requires mTLS (a client certificate from the rig's CA) and an API
 * key: a JWT that Temporal's default claim mapper checks against the rig's published key set, and whose
 * `permissions` claim its default authorizer reads. These tests present each credential, right and wrong.
 */
const dir = mkdtempSync(join(tmpdir(), 'meridian-credentials-'));
const signingKey = readFileSync(join(credentials, 'jwt-signing.key'), 'utf8');
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const ns = rig.temporal.namespace;

/** A temporal.toml profile like the rig's, with the given parts. */
function profile(name: string, parts: { apiKey?: string; clientCert?: boolean }): NodeJS.ProcessEnv {
  const file = join(dir, `${name}.toml`);
  const lines = [`[profile.${name}]`, `address = "${rig.temporal.address}"`, `namespace = "${ns}"`];
  if (parts.apiKey) lines.push(`api_key = "${parts.apiKey}"`);
  lines.push(
    `[profile.${name}.tls]`,
    `server_ca_cert_path = "${join(credentials, 'ca.pem')}"`,
    'server_name = "localhost"',
  );
  if (parts.clientCert)
    lines.push(
      `client_cert_path = "${join(credentials, 'client.pem')}"`,
      `client_key_path = "${join(credentials, 'client.key')}"`,
    );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { ...rigEnv(), TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: name, TEMPORAL_API_KEY: undefined };
}

const token = (permissions: string[], key = signingKey, ttlSeconds = 600, now = Date.now()) =>
  signToken(key, { subject: 'ci-pipeline', permissions, ttlSeconds }, rigJwtKeyId, now);

describe('credentials on the production profile', () => {
  beforeAll(() => expect(rig.profile).toBe('production'));

  it('lets in an API key signed with the published key, with the client certificate', async () => {
    const listed = await meridian(['list'], {
      env: profile('good', { apiKey: token([`${ns}:read`]), clientCert: true }),
    });
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
  });

  it('takes TEMPORAL_API_KEY over the profile, as the temporal CLI does', async () => {
    const env = {
      ...profile('env-over-profile', { apiKey: token([`${ns}:read`]), clientCert: true }),
      TEMPORAL_API_KEY: token([`${ns}:read`], otherKey),
    };
    const listed = await meridian(['list'], { env });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(/refused the API key from TEMPORAL_API_KEY/);
  });

  it.each([
    ['signed by a key the server does not trust', () => token([`${ns}:read`], otherKey)],
    ['expired', () => token([`${ns}:read`], signingKey, 60, Date.now() - 3_600_000)],
    ['not a JWT at all', () => 'not-a-token'],
  ])('refuses an API key %s, naming the API key as the refused credential', async (_what, make) => {
    const listed = await meridian(['list'], {
      env: profile(`bad-${_what.split(' ')[0]}`, { apiKey: make(), clientCert: true }),
    });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(/^error: Temporal at 127\.0\.0\.1:\d+ refused the API key from api_key of profile/m);
    expect(listed.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a key without access to the namespace, saying so', async () => {
    const listed = await meridian(['list'], {
      env: profile('other-namespace', { apiKey: token(['elsewhere:read']), clientCert: true }),
    });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(/refused the API key from api_key of profile/);
    expect(listed.stderr).toContain(ns);
  });

  it('asks for a credential when none is given', async () => {
    const listed = await meridian(['list'], { env: profile('no-key', { clientCert: true }) });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(
      /refused the request made with the client certificate from tls\.client_cert_path of profile "no-key" .* and no API key: .*set TEMPORAL_API_KEY/,
    );
  });

  it('cannot connect without a client certificate, and says a server requiring mutual TLS needs one', async () => {
    const listed = await meridian(['list'], { env: profile('no-cert', { apiKey: token([`${ns}:read`]) }) });
    expect(listed.code).toBe(3);
    expect(listed.stderr).toMatch(
      /requires mutual TLS also needs TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/,
    );
    expect(listed.stderr).not.toMatch(/\n\s+at /);
  });

  it('stops a worker whose key is refused with the same clear error, exit 2', async () => {
    const started = await meridian(['worker'], {
      env: profile('worker-bad', { apiKey: token([`${ns}:read`], otherKey), clientCert: true }),
      timeoutMs: 60_000,
    });
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/refused the API key/);
  }, 90_000);
});
