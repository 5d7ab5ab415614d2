/**
 * Where Temporal is and how to prove who we are, read the way Temporal's own tools read it: the
 * `TEMPORAL_*` environment variables over a profile of `temporal.toml` (TEMPORAL_CONFIG_FILE, else
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE, else `default`), loaded with
 * @temporalio/envconfig. Nothing configured means the local rig: 127.0.0.1:7233, namespace `default`.
 *
 * Two things are stricter than the `temporal` CLI, because a production worker that silently falls back
 * to 127.0.0.1 is worse than one that refuses to start: a TEMPORAL_CONFIG_FILE that does not exist is
 * an error, and so is a TLS file that cannot be read, a certificate without its key, or a setting the
 * Node SDK cannot honour. Every such error is an InvalidInputError (exit 2) naming the variable or
 * profile key and the fix; none prints a key, a token or a file's contents.
 */
import { readFileSync, statSync } from 'node:fs';
import { platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfig,
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ClientConfigTLS,
} from '@temporalio/envconfig';
import { InvalidInputError } from '../domain/errors';

/** The local rig's frontend, used when neither the environment nor a profile names one. */
export const localAddress = '127.0.0.1:7233';
/** The namespace used when neither the environment nor a profile names one. */
export const localNamespace = 'default';

/** Largest temporal.toml, certificate or key file read (they are a few KiB). */
const maxConfigFileBytes = 1024 * 1024;

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) take, plus the namespace. */
export interface TemporalConnectionConfig {
  /** host:port of the Temporal frontend. */
  address: string;
  /** Namespace Meridian's workflows run in. */
  namespace: string;
  /** TLS settings; `true` is TLS with the system's roots, undefined or false is plaintext. */
  tls?: TLSConfig | boolean;
  /** API key, sent as a bearer token. Never logged or printed. */
  apiKey?: string;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_* or a profile's grpc_meta). */
  metadata?: Record<string, string>;
  /** Profile of the config file that was applied, if one was. */
  profile?: string;
  /** Config file that was read, if one was. */
  configFile?: string;
  /** Where each setting came from, by variable or profile key (never a value), for error messages. */
  sources: CredentialSources;
}

/** Names (never values) of where the credentials and TLS settings came from. */
export interface CredentialSources {
  /** E.g. `TEMPORAL_API_KEY` or `api_key of profile "prod" in /home/me/.config/temporalio/temporal.toml`. */
  apiKey?: string;
  /** Where the client certificate for mTLS came from. */
  clientCert?: string;
  /** The TLS settings in force, in words, e.g. `TLS with the server CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH`. */
  tls: string;
}

/** Defaults for what nothing configures (the bench uses the rig's own port). */
export interface ConnectionDefaults {
  /** host:port used when neither the environment nor a profile names an address. */
  address?: string;
  /** Namespace used when neither the environment nor a profile names one. */
  namespace?: string;
}

/** The connection config from `env`, or an InvalidInputError naming what is wrong and how to fix it. */
export function loadTemporalConnectionConfig(
  env: NodeJS.ProcessEnv,
  defaults: ConnectionDefaults = {},
): TemporalConnectionConfig {
  const vars = envconfigVariables(env);
  const file = readConfigFile(env);
  const profiles = file ? parseProfiles(file.path, file.data) : {};
  const requested = vars.TEMPORAL_PROFILE;
  const profileName = requested ?? 'default';
  if (requested !== undefined && !(requested in profiles)) {
    const known = Object.keys(profiles);
    throw new InvalidInputError(
      file
        ? `TEMPORAL_PROFILE is "${requested}", but ${file.path} has no [profile.${requested}]${known.length ? ` (it has ${known.map((k) => `"${k}"`).join(', ')})` : ''}: fix TEMPORAL_PROFILE or add the profile`
        : `TEMPORAL_PROFILE is "${requested}", but there is no config file (${defaultConfigFilePath(env) ?? 'no home directory'}): set TEMPORAL_CONFIG_FILE to your temporal.toml, or unset TEMPORAL_PROFILE`,
    );
  }
  const fromFile = file !== undefined && profileName in profiles;
  const where = fromFile ? `profile "${profileName}" in ${file.path}` : undefined;
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      profile: fromFile ? profileName : undefined,
      configSource: fromFile ? { data: file.data } : undefined,
      disableFile: !fromFile,
      overrideEnvVars: vars,
    });
  } catch (err) {
    // envconfig's own checks, e.g. "Cannot specify both client_cert_path and client_cert_data".
    throw new InvalidInputError(
      `Temporal connection settings${where ? ` (TEMPORAL_TLS_* over ${where})` : ''}: ${firstLine(err)}: keep one of the two`,
    );
  }
  if (vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1') {
    throw new InvalidInputError(
      "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is set, but the Temporal Node SDK always verifies the server's certificate: set TEMPORAL_TLS_SERVER_NAME to the name in the certificate and TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA instead",
    );
  }
  const origin = (envName: string, key: string) =>
    vars[envName] !== undefined ? envName : `${key} of ${where ?? 'the profile'}`;
  checkTlsFiles(profile.tls, origin);

  let options: ReturnType<typeof toClientOptions>;
  try {
    options = toClientOptions(profile);
  } catch (err) {
    throw new InvalidInputError(
      `cannot read a TLS file of the Temporal connection (${(err as NodeJS.ErrnoException).code ?? 'error'}): check TEMPORAL_TLS_*_PATH${where ? ` and the tls table of ${where}` : ''}`,
    );
  }
  const address = options.connectionOptions.address || defaults.address || localAddress;
  checkAddress(address, origin('TEMPORAL_ADDRESS', 'address'));
  const tls = options.connectionOptions.tls ?? undefined;
  const apiKey = typeof options.connectionOptions.apiKey === 'string' ? options.connectionOptions.apiKey : undefined;
  const clientCertSource = profile.tls?.clientCert
    ? 'path' in profile.tls.clientCert
      ? origin('TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path')
      : origin('TEMPORAL_TLS_CLIENT_CERT_DATA', 'tls.client_cert_data')
    : undefined;
  return {
    address,
    namespace: options.namespace || defaults.namespace || localNamespace,
    tls,
    apiKey,
    metadata: profile.grpcMeta,
    profile: fromFile ? profileName : undefined,
    configFile: file?.path,
    sources: {
      apiKey: apiKey !== undefined ? origin('TEMPORAL_API_KEY', 'api_key') : undefined,
      clientCert: tls && typeof tls === 'object' && tls.clientCertPair ? clientCertSource : undefined,
      tls: describeTls(tls, profile.tls, origin, apiKey !== undefined),
    },
  };
}

/** The options `Connection.connect` and `NativeConnection.connect` share. */
export function connectionOptions(config: TemporalConnectionConfig): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  return { address: config.address, tls: config.tls, apiKey: config.apiKey, metadata: config.metadata };
}

/** Log fields for a connection: where, which namespace and profile, which kind of credential; never its value. */
export function connectionLogFields(config: TemporalConnectionConfig): Record<string, string | boolean | undefined> {
  return {
    address: config.address,
    namespace: config.namespace,
    profile: config.profile,
    tls: Boolean(config.tls),
    credential: config.apiKey !== undefined ? 'api-key' : config.sources.clientCert ? 'client-certificate' : 'none',
  };
}

/** The variables envconfig reads, without unset ones and without empty ones (an empty TEMPORAL_ADDRESS means unset). */
function envconfigVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    // An empty TEMPORAL_GRPC_META_X removes that header from the profile, as envconfig documents.
    if (value === '' && !name.startsWith('TEMPORAL_GRPC_META_')) continue;
    vars[name] = value;
  }
  return vars;
}

/** Where the `temporal` CLI looks for temporal.toml when TEMPORAL_CONFIG_FILE is not set. */
export function defaultConfigFilePath(env: NodeJS.ProcessEnv): string | undefined {
  let dir: string | undefined;
  switch (platform()) {
    case 'win32':
      dir = env.APPDATA || undefined;
      break;
    case 'darwin':
      dir = env.HOME ? join(env.HOME, 'Library', 'Application Support') : undefined;
      break;
    default:
      if (env.XDG_CONFIG_HOME) dir = isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
      else dir = env.HOME ? join(env.HOME, '.config') : undefined;
  }
  return dir ? join(dir, 'temporalio', 'temporal.toml') : undefined;
}

/** The config file's text: TEMPORAL_CONFIG_FILE must exist; the default location may be absent. */
function readConfigFile(env: NodeJS.ProcessEnv): { path: string; data: string } | undefined {
  const explicit = env.TEMPORAL_CONFIG_FILE || undefined;
  const path = explicit ?? defaultConfigFilePath(env);
  if (!path) return undefined;
  const named = explicit ? `TEMPORAL_CONFIG_FILE (${path})` : `the Temporal config file ${path}`;
  const problem = regularFileProblem(path);
  if (problem === 'does not exist' && !explicit) return undefined;
  if (problem)
    throw new InvalidInputError(
      `${named} ${problem}: ${explicit ? 'point TEMPORAL_CONFIG_FILE at your temporal.toml, or unset it' : 'make it a temporal.toml file, or set TEMPORAL_CONFIG_FILE'}`,
    );
  try {
    return { path, data: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new InvalidInputError(
      `${named} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): check its permissions`,
    );
  }
}

/** Every profile of a temporal.toml; malformed TOML names the line and column, never the text there. */
function parseProfiles(path: string, data: string): Record<string, ClientConfigProfile> {
  try {
    return loadClientConfig({ configSource: { data } }).profiles;
  } catch (err) {
    const position = err as { line?: unknown; column?: unknown };
    if (typeof position.line === 'number' && typeof position.column === 'number') {
      throw new InvalidInputError(
        `${path} is not valid TOML (line ${position.line}, column ${position.column}): fix the file, or point TEMPORAL_CONFIG_FILE at another`,
      );
    }
    // A file with no [profile.*] table at all (only comments, say) has no profiles.
    if (err instanceof TypeError) return {};
    throw new InvalidInputError(`${path}: ${firstLine(err)}: fix the profile's tls table`);
  }
}

/** Each TLS file must be a readable PEM file: a mistake here would otherwise surface as a handshake error. */
function checkTlsFiles(tls: ClientConfigTLS | undefined, origin: (envName: string, key: string) => string): void {
  if (!tls) return;
  const files = [
    { source: tls.serverCACert, env: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'tls.server_ca_cert' },
    { source: tls.clientCert, env: 'TEMPORAL_TLS_CLIENT_CERT', key: 'tls.client_cert' },
    { source: tls.clientKey, env: 'TEMPORAL_TLS_CLIENT_KEY', key: 'tls.client_key' },
  ];
  for (const { source, env, key } of files) {
    if (!source) continue;
    if ('path' in source) {
      const name = origin(`${env}_PATH`, `${key}_path`);
      const problem = regularFileProblem(source.path);
      if (problem) throw new InvalidInputError(`${name} names ${source.path}, which ${problem}: fix the path`);
      let text: string;
      try {
        text = readFileSync(source.path, 'utf8');
      } catch (err) {
        throw new InvalidInputError(
          `${name} names ${source.path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): check its permissions`,
        );
      }
      if (!text.includes('-----BEGIN '))
        throw new InvalidInputError(
          `${name} names ${source.path}, which is not a PEM file: give the PEM (-----BEGIN ...) file`,
        );
    } else {
      const text = typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8');
      if (!text.includes('-----BEGIN '))
        throw new InvalidInputError(
          `${origin(`${env}_DATA`, `${key}_data`)} is not PEM: give the PEM text (-----BEGIN ...), or use ${env}_PATH`,
        );
    }
  }
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    const [has, lacks] = tls.clientCert ? ['certificate', 'key'] : ['key', 'certificate'];
    throw new InvalidInputError(
      `a client ${has} is configured without its ${lacks}: set both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_cert_path and tls.client_key_path in the profile)`,
    );
  }
}

/** Why `path` is not a regular file of a sane size, or undefined when it is one. */
export function regularFileProblem(path: string, maxBytes = maxConfigFileBytes): string | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
  }
  if (stat.isDirectory()) return 'is a directory';
  if (!stat.isFile()) return 'is not a regular file (a device, fifo or socket)';
  if (stat.size > maxBytes) return `is larger than ${Math.round(maxBytes / 1024)} KiB`;
  return undefined;
}

function checkAddress(address: string, name: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    throw new InvalidInputError(`${name} is "${address}", a URL: give host:port, e.g. my-ns.a1b2c.tmprl.cloud:7233`);
  }
  if (!/^(\[[0-9a-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/i.test(address)) {
    throw new InvalidInputError(
      `${name} is "${address}": give host:port, e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233`,
    );
  }
}

function describeTls(
  tls: TLSConfig | boolean | undefined,
  settings: ClientConfigTLS | undefined,
  origin: (envName: string, key: string) => string,
  byApiKey: boolean,
): string {
  if (!tls)
    return settings?.disabled
      ? `plaintext (${origin('TEMPORAL_TLS', 'tls.disabled')})`
      : 'plaintext (no TLS configured)';
  const parts: string[] = [];
  if (typeof tls === 'object' && tls.serverRootCACertificate) {
    parts.push(
      `the server CA from ${settings?.serverCACert && 'path' in settings.serverCACert ? origin('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path') : origin('TEMPORAL_TLS_SERVER_CA_CERT_DATA', 'tls.server_ca_cert_data')}`,
    );
  } else {
    parts.push("the system's CA certificates");
  }
  if (typeof tls === 'object' && tls.serverNameOverride)
    parts.push(`server name "${tls.serverNameOverride}" from ${origin('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name')}`);
  if (typeof tls === 'object' && tls.clientCertPair) parts.push('a client certificate');
  const why = settings ? '' : byApiKey ? ' (on because an API key is set)' : '';
  return `TLS${why} with ${parts.join(', ')}`;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
