import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../../domain/errors';
import { DOCKER_HUB } from './image-reference';

/**
 * Registry credentials, read from the auth file `docker login`, `podman login` and `skopeo login` write.
 * Secrets stay inside the returned lookup: no message here (or in the client) ever quotes one, so an
 * error in a Temporal history or a log cannot leak them.
 */

/** What to present to one registry. */
export type RegistryCredential =
  | {
      /** Account name, sent with Basic auth or to the token server. */
      username: string;
      /** Password or personal access token. */
      password: string;
    }
  | {
      /** A token from the auth file's `registrytoken` or `identitytoken`. */
      token: string;
      /**
       * `registry` (the default): a bearer token sent to the registry as is. `identity`: an OAuth2
       * refresh token, exchanged at the registry's token server for a bearer token per scope.
       */
      kind?: 'registry' | 'identity';
    };

/** The credential for a registry host (`host[:port]`), or undefined to go anonymous. */
export type CredentialLookup = (registryHost: string) => RegistryCredential | undefined;

const authEntry = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
  registrytoken: z.string().optional(),
});
const authFile = z.object({ auths: z.record(z.string(), authEntry).optional() });

/**
 * The credentials in the auth file the environment points at: REGISTRY_AUTH_FILE, else
 * $DOCKER_CONFIG/config.json, else ~/.docker/config.json. A missing file means no credentials; a
 * malformed one is an InvalidInputError naming the file and the entry, never the secret. The file is
 * read once, here, so a broken file stops a worker at start rather than in the middle of a release.
 * Credential helpers (`credsStore`, `credHelpers`) are not run: their hosts go anonymous.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): CredentialLookup {
  const file = authFilePath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return () => undefined;
    throw new InvalidInputError(
      `cannot read the registry auth file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const byHost = readAuthFile(file, text);
  return (registryHost) => byHost.get(normalizeHost(registryHost));
}

/**
 * The credentials in an auth document read from somewhere else than a file, such as a Kubernetes
 * Secret's `.dockerconfigjson`; `source` names it in errors.
 */
export function credentialsFromAuthJson(source: string, text: string): CredentialLookup {
  const byHost = readAuthFile(source, text);
  return (registryHost) => byHost.get(normalizeHost(registryHost));
}

/** The first lookup that knows a registry: e.g. a Kubernetes Secret's, then the auth file's. */
export function firstCredentials(...lookups: (CredentialLookup | undefined)[]): CredentialLookup {
  return (registryHost) => {
    for (const lookup of lookups) {
      const found = lookup?.(registryHost);
      if (found) return found;
    }
    return undefined;
  };
}

/** Which auth file the environment points at. */
export function authFilePath(env: NodeJS.ProcessEnv): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME || homedir(), '.docker', 'config.json');
}

function readAuthFile(file: string, text: string): Map<string, RegistryCredential> {
  const malformed = (problem: string) =>
    new InvalidInputError(
      `the registry auth ${file.startsWith('Secret ') ? '' : 'file '}${file} is malformed: ${problem}: fix it, log in again (docker login), or point REGISTRY_AUTH_FILE at another file`,
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error, which may be a secret: keep only the position.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw malformed(`not valid JSON${position !== undefined ? ` (at character ${position})` : ''}`);
  }
  const parsed = authFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(
      `${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') || 'the top level'}: ${issue.message}`,
    );
  }
  const byHost = new Map<string, RegistryCredential>();
  for (const [key, entry] of Object.entries(parsed.data.auths ?? {})) {
    const credential = credentialOf(entry, (problem) => malformed(`auths[${JSON.stringify(key)}] ${problem}`));
    if (credential) byHost.set(normalizeHost(key), credential);
  }
  return byHost;
}

/** One auth entry as a credential, in docker's order of preference; undefined for an empty entry. */
function credentialOf(
  entry: z.infer<typeof authEntry>,
  malformed: (problem: string) => Error,
): RegistryCredential | undefined {
  if (entry.identitytoken) return { token: entry.identitytoken, kind: 'identity' };
  if (entry.registrytoken) return { token: entry.registrytoken, kind: 'registry' };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (!/^[A-Za-z0-9+/=\s]+$/.test(entry.auth) || colon <= 0)
      throw malformed('has an "auth" that is not base64 of username:password');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.username || entry.password) throw malformed('needs both "username" and "password"');
  return undefined;
}

/**
 * The host part of an auth file key or registry name: keys may be URLs (`https://host/v1/`), and
 * Docker Hub goes by several names.
 */
function normalizeHost(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]
    .toLowerCase();
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host) ? DOCKER_HUB : host;
}
