import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MissingPrerequisiteError } from '../domain/errors';

const run = promisify(execFile);

/**
 * The secrets of the production profile, generated at setup into the rig folder (mode 0600) and never
 * printed: a certificate authority with a server certificate for the Temporal frontend and a client
 * certificate for Meridian (mTLS), the key that signs API keys (JWTs that Temporal's default claim mapper
 * checks against the published key set), the PostgreSQL password and the payload codec's key.
 */
export interface RigCredentials {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** RSA private key (PKCS#8 PEM) that signs the rig's API keys. */
  jwtSigningKey: string;
  /** The key set (JWKS) Temporal fetches to check API keys. */
  jwks: string;
  /** Password of the `temporal` PostgreSQL role. */
  postgresPassword: string;
  /** `id:base64` of the payload codec key (MERIDIAN_CODEC_KEYS format). */
  codecKeys: string;
  /** Token the rig's codec server asks for. */
  codecServerToken: string;
}

/** Key id of the rig's JWT signing key, as it appears in the key set and in each token's header. */
export const rigJwtKeyId = 'meridian-rig-1';

/** Certificates live 30 days; `dev up` makes new ones when fewer than 2 days remain. */
const certificateDays = 30;

export function rigCredentialsDir(rigDir: string): string {
  return join(rigDir, 'credentials');
}

function paths(
  dir: string,
): Omit<RigCredentials, 'postgresPassword' | 'codecKeys' | 'codecServerToken'> &
  Record<'postgresPasswordFile' | 'codecKeysFile' | 'codecTokenFile', string> {
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'frontend.pem'),
    serverKey: join(dir, 'frontend.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    jwtSigningKey: join(dir, 'jwt-signing.key'),
    jwks: join(dir, 'jwks.json'),
    postgresPasswordFile: join(dir, 'postgres-password'),
    codecKeysFile: join(dir, 'codec-keys'),
    codecTokenFile: join(dir, 'codec-server-token'),
  };
}

function writeSecret(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MissingPrerequisiteError(
        "missing 'openssl': run `npm run setup` (it installs Debian's openssl) or install it",
      );
    }
    throw new Error(
      `openssl ${args[0]} failed: ${((err as { stderr?: string }).stderr ?? String(err)).split('\n').slice(0, 3).join(' ')}`,
    );
  }
}

/** Whether a certificate file is valid for at least `seconds` more. */
async function validFor(cert: string, seconds: number): Promise<boolean> {
  if (!existsSync(cert)) return false;
  try {
    await run('openssl', ['x509', '-checkend', String(seconds), '-noout', '-in', cert]);
    return true;
  } catch {
    return false;
  }
}

/** A certificate signed by the rig's CA, with the given extensions. */
async function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  files: { cert: string; key: string },
  ca: { cert: string; key: string },
): Promise<void> {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    files.key,
    '-out',
    csr,
    '-subj',
    subject,
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    files.cert,
    '-days',
    String(certificateDays),
    '-sha256',
    '-extfile',
    ext,
  ]);
  chmodSync(files.key, 0o600);
}

/** Makes whatever is missing or about to expire; keeps the rest, so a restarted rig keeps its keys. */
export async function ensureRigCredentials(rigDir: string): Promise<RigCredentials> {
  const dir = rigCredentialsDir(rigDir);
  const p = paths(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const caKey = join(dir, 'ca.key');
  if (
    !(await validFor(p.caCert, 2 * 86_400)) ||
    !(await validFor(p.serverCert, 2 * 86_400)) ||
    !(await validFor(p.clientCert, 2 * 86_400))
  ) {
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      p.caCert,
      '-days',
      String(certificateDays),
      '-sha256',
      '-subj',
      '/CN=Meridian local rig CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    chmodSync(caKey, 0o600);
    const ca = { cert: p.caCert, key: caKey };
    await issue(
      dir,
      'frontend',
      '/CN=localhost',
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
      { cert: p.serverCert, key: p.serverKey },
      ca,
    );
    await issue(
      dir,
      'client',
      '/CN=meridian-worker',
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
      { cert: p.clientCert, key: p.clientKey },
      ca,
    );
  }
  if (!existsSync(p.jwtSigningKey) || !existsSync(p.jwks)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeSecret(p.jwtSigningKey, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    writeFileSync(
      p.jwks,
      `${JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: rigJwtKeyId, use: 'sig', alg: 'RS256' }] })}\n`,
    );
  }
  const secret = (file: string, make: () => string) => {
    if (!existsSync(file)) writeSecret(file, `${make()}\n`);
  };
  secret(p.postgresPasswordFile, () => randomBytes(18).toString('base64url'));
  secret(p.codecKeysFile, () => `rig-1:${randomBytes(32).toString('base64')}`);
  secret(p.codecTokenFile, () => randomBytes(24).toString('base64url'));
  return readRigCredentials(rigDir);
}

/** Where the rig keeps the API key of its PowerDNS (mode 0600; `dev status` prints how to export it, never the key). */
export function powerDnsApiKeyFile(rigDir: string): string {
  return join(rigCredentialsDir(rigDir), 'powerdns-api-key');
}

/** The PowerDNS API key: made at the first `dev up` and kept from then on, so clients keep working across restarts. */
export function ensurePowerDnsApiKey(rigDir: string): string {
  const dir = rigCredentialsDir(rigDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const existing = readPowerDnsApiKey(rigDir);
  if (existing) return existing;
  const key = randomBytes(24).toString('base64url');
  writeSecret(powerDnsApiKeyFile(rigDir), `${key}\n`);
  return key;
}

/** The PowerDNS API key, or undefined before the first `dev up` made it. */
export function readPowerDnsApiKey(rigDir: string): string | undefined {
  try {
    return readFileSync(powerDnsApiKeyFile(rigDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The credentials as they are, making nothing (`dev status` reads them; only `dev up` makes them). */
export function readRigCredentials(rigDir: string): RigCredentials {
  const p = paths(rigCredentialsDir(rigDir));
  const secret = (file: string) => readFileSync(file, 'utf8').trim();
  return {
    ...p,
    postgresPassword: secret(p.postgresPasswordFile),
    codecKeys: secret(p.codecKeysFile),
    codecServerToken: secret(p.codecTokenFile),
  };
}

/** What a token lets its bearer do, in the `permissions` claim of Temporal's default claim mapper. */
export interface TokenClaims {
  /** Who the token names (`sub`). */
  subject: string;
  /** e.g. `temporal-system:admin`, `default:write`. */
  permissions: string[];
  /** Lifetime in seconds. */
  ttlSeconds: number;
}

function base64url(value: object | Buffer): string {
  return (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');
}

/** An RS256 JWT signed with `privateKeyPem`: what Temporal Cloud calls an API key, as the rig issues it. */
export function signToken(privateKeyPem: string, claims: TokenClaims, keyId = rigJwtKeyId, now = Date.now()): string {
  const header = base64url({ alg: 'RS256', typ: 'JWT', kid: keyId });
  const iat = Math.floor(now / 1000);
  const payload = base64url({
    sub: claims.subject,
    permissions: claims.permissions,
    iat,
    exp: iat + claims.ttlSeconds,
  });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), createPrivateKey(privateKeyPem));
  return `${header}.${payload}.${base64url(signature)}`;
}
