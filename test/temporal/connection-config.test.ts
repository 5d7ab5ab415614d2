import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../src/domain/errors';
import {
  connectionLogFields,
  connectionOptions,
  loadTemporalConnectionConfig,
} from '../../src/temporal/connection-config';

const pem = (label: string) => `-----BEGIN ${label}-----\nMIIBfake\n-----END ${label}-----\n`;

/** A home directory of its own, so the machine's ~/.config/temporalio/temporal.toml never leaks in. */
function sandbox() {
  const home = mkdtempSync(join(tmpdir(), 'meridian-envconfig-'));
  const write = (name: string, text: string) => {
    const path = join(home, name);
    writeFileSync(path, text);
    return path;
  };
  return { home, write, env: (vars: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: home, ...vars }) };
}

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(2);
    return err as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

const profiles = (ca: string, cert: string, key: string) => `
[profile.default]
address = "file-default.example:7233"
namespace = "from-file"

[profile.cloud]
address = "prod.a1b2c.tmprl.cloud:7233"
namespace = "prod.a1b2c"
api_key = "file-api-key-secret"

[profile.mtls]
address = "temporal.internal:7233"
namespace = "releases"
[profile.mtls.tls]
server_ca_cert_path = "${ca}"
client_cert_path = "${cert}"
client_key_path = "${key}"
server_name = "temporal.internal.example"
[profile.mtls.grpc_meta]
x-tenant = "shop"
`;

describe('loadTemporalConnectionConfig', () => {
  it('defaults to the local rig when nothing is configured: 127.0.0.1:7233, namespace default, plaintext', () => {
    const { env } = sandbox();
    const config = loadTemporalConnectionConfig(env());
    expect(connectionOptions(config)).toEqual({
      address: '127.0.0.1:7233',
      tls: undefined,
      apiKey: undefined,
      metadata: undefined,
    });
    expect(config.namespace).toBe('default');
    expect(config.profile).toBeUndefined();
    expect(config.sources.tls).toMatch(/plaintext/);
  });

  it('reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY; an API key turns TLS on', () => {
    const { env } = sandbox();
    const config = loadTemporalConnectionConfig(
      env({
        TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
        TEMPORAL_NAMESPACE: 'prod.a1b2c',
        TEMPORAL_API_KEY: 'key-123',
      }),
    );
    expect(config).toMatchObject({
      address: 'us-east-1.aws.api.temporal.io:7233',
      namespace: 'prod.a1b2c',
      apiKey: 'key-123',
      tls: true,
    });
    expect(config.sources.apiKey).toBe('TEMPORAL_API_KEY');
    expect(config.sources.tls).toMatch(/API key/);
    // Logs say which kind of credential, never its value.
    expect(JSON.stringify(connectionLogFields(config))).not.toContain('key-123');
    expect(connectionLogFields(config)).toMatchObject({ credential: 'api-key', tls: true });
  });

  it('TEMPORAL_TLS=false keeps an API key on plaintext (a local proxy)', () => {
    const { env } = sandbox();
    const config = loadTemporalConnectionConfig(env({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }));
    expect(config.tls).toBe(false);
  });

  it('reads TLS files from TEMPORAL_TLS_* variables', () => {
    const box = sandbox();
    const ca = box.write('ca.pem', pem('CERTIFICATE'));
    const cert = box.write('client.pem', pem('CERTIFICATE'));
    const key = box.write('client.key', pem('PRIVATE KEY'));
    const config = loadTemporalConnectionConfig(
      box.env({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
        TEMPORAL_TLS_SERVER_NAME: 'frontend.example',
      }),
    );
    expect(config.tls).toMatchObject({ serverNameOverride: 'frontend.example' });
    const tls = config.tls as {
      serverRootCACertificate: Uint8Array;
      clientCertPair: { crt: Uint8Array; key: Uint8Array };
    };
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe(pem('CERTIFICATE'));
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe(pem('PRIVATE KEY'));
    expect(config.sources.clientCert).toBe('TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(config.sources.tls).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(connectionLogFields(config).credential).toBe('client-certificate');
  });

  it('uses the default profile of ~/.config/temporalio/temporal.toml, like the temporal CLI', () => {
    const box = sandbox();
    mkdirSync(join(box.home, '.config', 'temporalio'), { recursive: true });
    box.write('.config/temporalio/temporal.toml', profiles('/x', '/y', '/z'));
    const config = loadTemporalConnectionConfig(box.env());
    expect(config).toMatchObject({ address: 'file-default.example:7233', namespace: 'from-file', profile: 'default' });
  });

  it('TEMPORAL_PROFILE picks a profile of TEMPORAL_CONFIG_FILE, with its API key, TLS files and gRPC headers', () => {
    const box = sandbox();
    const ca = box.write('ca.pem', pem('CERTIFICATE'));
    const cert = box.write('client.pem', pem('CERTIFICATE'));
    const key = box.write('client.key', pem('PRIVATE KEY'));
    const file = box.write('temporal.toml', profiles(ca, cert, key));
    const cloud = loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' }));
    expect(cloud).toMatchObject({
      address: 'prod.a1b2c.tmprl.cloud:7233',
      namespace: 'prod.a1b2c',
      apiKey: 'file-api-key-secret',
      tls: true,
      profile: 'cloud',
      configFile: file,
    });
    expect(cloud.sources.apiKey).toBe(`api_key of profile "cloud" in ${file}`);

    const mtls = loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' }));
    expect(mtls.tls).toMatchObject({ serverNameOverride: 'temporal.internal.example' });
    expect(mtls.metadata).toEqual({ 'x-tenant': 'shop' });
    expect(mtls.sources.clientCert).toBe(`tls.client_cert_path of profile "mtls" in ${file}`);
  });

  it('environment variables win over the profile', () => {
    const box = sandbox();
    const file = box.write('temporal.toml', profiles('/x', '/y', '/z'));
    const config = loadTemporalConnectionConfig(
      box.env({
        TEMPORAL_CONFIG_FILE: file,
        TEMPORAL_PROFILE: 'cloud',
        TEMPORAL_NAMESPACE: 'staging.a1b2c',
        TEMPORAL_API_KEY: 'env-key',
        TEMPORAL_GRPC_META_X_TEAM: 'rel',
      }),
    );
    expect(config).toMatchObject({
      address: 'prod.a1b2c.tmprl.cloud:7233',
      namespace: 'staging.a1b2c',
      apiKey: 'env-key',
      metadata: { 'x-team': 'rel' },
    });
    expect(config.sources.apiKey).toBe('TEMPORAL_API_KEY');
  });

  it('empty variables count as unset', () => {
    const { env } = sandbox();
    expect(loadTemporalConnectionConfig(env({ TEMPORAL_ADDRESS: '', TEMPORAL_API_KEY: '' }))).toMatchObject({
      address: '127.0.0.1:7233',
      apiKey: undefined,
    });
  });

  it("takes the caller's defaults for what nothing configures (the bench: the rig's port)", () => {
    const { env } = sandbox();
    expect(loadTemporalConnectionConfig(env(), { address: '127.0.0.1:17233', namespace: 'bench' })).toMatchObject({
      address: '127.0.0.1:17233',
      namespace: 'bench',
    });
  });

  describe('refuses bad config with exit 2, naming the variable or key and the fix, never a secret or file contents', () => {
    it('an unknown profile, listing the ones there are', () => {
      const box = sandbox();
      const file = box.write('temporal.toml', profiles('/x', '/y', '/z'));
      const err = refusal(() =>
        loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })),
      );
      expect(err.message).toContain('TEMPORAL_PROFILE is "prod"');
      expect(err.message).toContain('[profile.prod]');
      expect(err.message).toContain('"cloud"');
      expect(err.message).not.toContain('file-api-key-secret');
    });

    it('a profile asked for with no config file at all', () => {
      const { env } = sandbox();
      expect(refusal(() => loadTemporalConnectionConfig(env({ TEMPORAL_PROFILE: 'cloud' }))).message).toMatch(
        /TEMPORAL_PROFILE is "cloud", but there is no config file.*TEMPORAL_CONFIG_FILE/,
      );
    });

    it('a TEMPORAL_CONFIG_FILE that does not exist, or is a directory', () => {
      const box = sandbox();
      expect(
        refusal(() => loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: join(box.home, 'nope.toml') })))
          .message,
      ).toMatch(/TEMPORAL_CONFIG_FILE .* does not exist/);
      expect(refusal(() => loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: box.home }))).message).toMatch(
        /TEMPORAL_CONFIG_FILE .* is a directory/,
      );
    });

    it('malformed TOML: the line and column, not the text there', () => {
      const box = sandbox();
      const file = box.write('temporal.toml', '[profile.default]\napi_key = "very-secret-key\naddress = 1\n');
      const err = refusal(() => loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: file })));
      expect(err.message).toMatch(/is not valid TOML \(line \d+, column \d+\)/);
      expect(err.message).not.toContain('very-secret-key');
    });

    it('a config file with no profiles is no profile, not a crash', () => {
      const box = sandbox();
      const file = box.write('temporal.toml', '# nothing yet\n');
      expect(loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: file })).address).toBe('127.0.0.1:7233');
    });

    it('a TLS file that is missing, named by its variable or profile key', () => {
      const box = sandbox();
      const err = refusal(() =>
        loadTemporalConnectionConfig(box.env({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(box.home, 'ca.pem') })),
      );
      expect(err.message).toMatch(
        /^TEMPORAL_TLS_SERVER_CA_CERT_PATH names .*ca\.pem, which does not exist: fix the path/,
      );
      const file = box.write('temporal.toml', profiles(join(box.home, 'missing-ca.pem'), '/y', '/z'));
      expect(
        refusal(() => loadTemporalConnectionConfig(box.env({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' })))
          .message,
      ).toContain(`tls.server_ca_cert_path of profile "mtls" in ${file} names`);
    });

    it('a TLS file that is not PEM, without printing it', () => {
      const box = sandbox();
      const key = box.write('key.der', 'secret-bytes-not-pem');
      const cert = box.write('client.pem', pem('CERTIFICATE'));
      const err = refusal(() =>
        loadTemporalConnectionConfig(
          box.env({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key }),
        ),
      );
      expect(err.message).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH names .* which is not a PEM file/);
      expect(err.message).not.toContain('secret-bytes');
    });

    it('a client certificate without its key', () => {
      const box = sandbox();
      const cert = box.write('client.pem', pem('CERTIFICATE'));
      expect(
        refusal(() => loadTemporalConnectionConfig(box.env({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }))).message,
      ).toMatch(/client certificate is configured without its key/);
    });

    it('a path and data for the same file', () => {
      const box = sandbox();
      const cert = box.write('client.pem', pem('CERTIFICATE'));
      expect(
        refusal(() =>
          loadTemporalConnectionConfig(
            box.env({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_CERT_DATA: pem('CERTIFICATE') }),
          ),
        ).message,
      ).toMatch(/client_cert_path and client_cert_data/);
    });

    it('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION, which the Node SDK cannot honour', () => {
      const { env } = sandbox();
      expect(
        refusal(() =>
          loadTemporalConnectionConfig(env({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })),
        ).message,
      ).toMatch(/TEMPORAL_TLS_SERVER_NAME/);
    });

    it('an address that is a URL or has no port', () => {
      const { env } = sandbox();
      expect(
        refusal(() => loadTemporalConnectionConfig(env({ TEMPORAL_ADDRESS: 'https://x.tmprl.cloud:7233' }))).message,
      ).toMatch(/^TEMPORAL_ADDRESS is "https:\/\/x.tmprl.cloud:7233", a URL: give host:port/);
      expect(
        refusal(() => loadTemporalConnectionConfig(env({ TEMPORAL_ADDRESS: 'temporal.internal' }))).message,
      ).toMatch(/^TEMPORAL_ADDRESS is "temporal.internal": give host:port/);
    });
  });
});
