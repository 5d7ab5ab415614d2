import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { ReleaseRef } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';
import { codecKeysFromEnv } from '../../codec/codec-keys';
import { authFilePath } from '../registry/registry-auth';

/** What every job and command check finds in its environment, so that one suite serves every region. */
export function checkEnvironment(release: ReleaseRef, region: RegionSpec): Record<string, string> {
  return {
    MERIDIAN_ENDPOINT: region.endpoint,
    MERIDIAN_REGION: region.name,
    MERIDIAN_APP: release.app,
    MERIDIAN_VERSION: release.version,
    MERIDIAN_RELEASE: release.releaseId,
  };
}

/**
 * Variables of the worker's environment every command check gets: what finds programs and a home and
 * picks a locale, none of which is a credential. Anything else of the worker's environment reaches a
 * command only when its check names it in `passEnv`.
 */
export const basicCommandEnv = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
] as const;

/**
 * A command check's whole environment: the basics of the worker's (basicCommandEnv), the worker's
 * variables the check names in `passEnv`, the check's own `env`, then the region's MERIDIAN_* variables.
 */
export function commandEnvironment(
  workerEnv: Record<string, string | undefined>,
  check: { env: Record<string, string>; passEnv: readonly string[] },
  environment: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...basicCommandEnv, ...check.passEnv]) {
    const value = workerEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...check.env, ...environment };
}

/** The last `max` characters of a process's or pod's output, for a failure message. */
export function tailOf(text: string, max = 600): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}

/** Names of environment variables that hold credentials, by the usual conventions. */
const secretName =
  /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_?KEY|AUTH|COOKIE|CODEC_KEYS|(^|_)KEY(_DATA)?$/i;
/** Names that hold where a credential is, not the credential (REGISTRY_AUTH_FILE, MERIDIAN_CODEC_KEYS_FILE). */
const locationName = /_(FILE|PATH|DIR)$/i;

/** A value the worker holds as a credential, and what names it in scrubbed text. */
export interface WorkerSecret {
  /** Shown instead of the value, as `***name***`: a variable's name, or what the credential is. */
  name: string;
  /** The credential itself. */
  value: string;
}

/** Shortest value scrubbed as given; shorter ones would mask ordinary words. */
const minSecretChars = 4;
/** Shortest value whose reversed and encoded forms are scrubbed too: short ones match by chance. */
const minDerivedChars = 8;

/** Where the worker's credentials live besides its environment variables. */
export interface WorkerSecretSources {
  /** The Temporal API key, also when it came from a temporal.toml profile. */
  temporalApiKey?: string;
  /** The mTLS client key for Temporal, as PEM. */
  temporalClientKey?: string | Uint8Array;
  /** The kubeconfig the worker reads (undefined: KUBECONFIG or ~/.kube/config): its users' tokens, passwords and keys. */
  kubeconfigFile?: string;
}

/**
 * Everything the worker holds as a credential, for scrubbing text bound for workflow history: the values
 * of its environment variables whose names look secret (TOKEN, SECRET, PASSWORD, API_KEY, AUTH, ...), its
 * codec keys, the Temporal API key and client key, the passwords and tokens of the registry auth file,
 * and the kubeconfig's user credentials. A source that cannot be read adds nothing: the worker reads and
 * checks each of them itself.
 */
export function workerSecrets(
  env: Record<string, string | undefined>,
  sources: WorkerSecretSources = {},
): WorkerSecret[] {
  const secrets: WorkerSecret[] = [];
  const add = (name: string, value: string | undefined) => {
    if (value && value.length >= minSecretChars) secrets.push({ name, value });
  };
  for (const [name, value] of Object.entries(env))
    if (secretName.test(name) && !locationName.test(name)) add(name, value);
  try {
    for (const key of codecKeysFromEnv(env)) {
      add(`codec key ${key.id}`, key.key.toString('base64'));
      add(`codec key ${key.id}`, key.key.toString('hex'));
    }
  } catch {
    // A bad key setting stops the worker at start; nothing to add here.
  }
  add('Temporal API key', sources.temporalApiKey);
  const clientKey = sources.temporalClientKey;
  addPem(
    'Temporal client key',
    typeof clientKey === 'string' ? clientKey : clientKey && Buffer.from(clientKey).toString('utf8'),
    add,
  );
  for (const [name, value] of registryAuthSecrets(env)) add(name, value);
  for (const [name, value] of kubeconfigSecrets(sources.kubeconfigFile, add)) add(name, value);
  return secrets;
}

/** A PEM key as a whole and line by line, so that a key printed with other line breaks is scrubbed too. */
function addPem(name: string, pem: string | undefined, add: (name: string, value: string | undefined) => void): void {
  if (!pem) return;
  add(name, pem.trim());
  for (const line of pem.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) add(name, line.trim());
}

/** The passwords and tokens of the registry auth file (docker login's config.json). */
function registryAuthSecrets(env: Record<string, string | undefined>): [string, string][] {
  const found: [string, string][] = [];
  try {
    const json = JSON.parse(readFileSync(authFilePath(env as NodeJS.ProcessEnv), 'utf8')) as {
      auths?: Record<string, Record<string, unknown>>;
    };
    for (const entry of Object.values(json.auths ?? {})) {
      for (const field of ['auth', 'password', 'identitytoken', 'registrytoken']) {
        const value = entry?.[field];
        if (typeof value !== 'string') continue;
        found.push(['registry credential', value]);
        // `auth` is base64 of user:password: the password alone is a secret too.
        if (field === 'auth') {
          const decoded = Buffer.from(value, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon >= 0) found.push(['registry credential', decoded.slice(colon + 1)]);
        }
      }
    }
  } catch {
    // No auth file, or one the registry code refuses at start.
  }
  return found;
}

/** The tokens, passwords and client keys of the kubeconfig's users. */
function kubeconfigSecrets(
  file: string | undefined,
  add: (name: string, value: string | undefined) => void,
): [string, string][] {
  const found: [string, string][] = [];
  try {
    const kc = new KubeConfig();
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
    for (const user of kc.getUsers()) {
      if (user.token) found.push(['kubeconfig credential', user.token]);
      if (user.password) found.push(['kubeconfig credential', user.password]);
      if (user.keyData) {
        found.push(['kubeconfig credential', user.keyData]);
        addPem('kubeconfig credential', Buffer.from(user.keyData, 'base64').toString('utf8'), add);
      }
    }
  } catch {
    // No kubeconfig: the activities that need one say so.
  }
  return found;
}

/** The forms of a secret scrubbed besides itself: reversed, base64 (standard and URL-safe), hex, percent-encoded. */
function formsOf(value: string): string[] {
  if (value.length < minDerivedChars) return [value];
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  const forms = [
    value,
    [...value].reverse().join(''),
    base64,
    base64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(value),
  ];
  return [...new Set(forms)];
}

/**
 * Masks every value of `secrets` in text bound for workflow history (a failing check's output), and its
 * reversed, base64, hex and percent-encoded forms: a suite that prints its environment, or transforms a
 * secret before printing it, must not leak the worker's credentials. Each is shown as `***name***`.
 */
export function scrubSecrets(text: string, secrets: readonly WorkerSecret[]): string {
  const forms = secrets.flatMap((s) => formsOf(s.value).map((form) => ({ form, name: s.name })));
  // Longest first, so that a secret holding a shorter one is masked whole.
  forms.sort((a, b) => b.form.length - a.form.length);
  let out = text;
  for (const { form, name } of forms) if (out.includes(form)) out = out.split(form).join(`***${name}***`);
  return out;
}
