import { ExitCode, MeridianError } from '../../domain/errors';

/**
 * Failures talking to a registry, sorted into the two kinds an activity's retry policy cares about: the
 * registry (or the network) had a bad moment, or the request itself cannot succeed until someone fixes
 * something. Every message names the registry, what was asked, and what to do.
 */
export class RegistryError extends MeridianError {
  /** HTTP status the registry answered, when it answered at all. */
  readonly status?: number;
  /** Registry host (`host[:port]`) the request went to. */
  readonly registry: string;
  /** Whether the same request may succeed later: connection failures, timeouts, 5xx and 429. */
  readonly retryable: boolean;

  constructor(message: string, details: { registry: string; retryable: boolean; status?: number; cause?: unknown }) {
    super(message);
    this.registry = details.registry;
    this.retryable = details.retryable;
    if (details.status !== undefined) this.status = details.status;
    if (details.cause !== undefined) this.cause = details.cause;
  }

  /** Retryable failures are an unreachable registry; the rest are input (a name, a tag, a login) to fix. */
  get exitCode(): number {
    return this.retryable ? ExitCode.unreachable : ExitCode.invalidInput;
  }
}

/** What a request was for, to word its errors. */
export interface RequestContext {
  registry: string;
  /** The request in words, e.g. `read manifest shop/api:2.4.0`. */
  what: string;
  /** The whole message for a 404, when the request has a better one than the registry's. */
  notFound?: string;
  /** Whether a credential was presented, to tell "log in" from "check your login" on 401. */
  hadCredential?: boolean;
}

/** Network error codes after which the same request may well succeed. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** The error for a response outside the expected statuses; `body` is the registry's answer, if read. */
export function errorFromResponse(status: number, body: string, context: RequestContext): RegistryError {
  const { registry, what } = context;
  const said = registrySays(body);
  const detail = said ? `: ${said}` : '';
  const error = (message: string, retryable: boolean) => new RegistryError(message, { registry, status, retryable });
  // An upload session the registry lost (restarted, or another replica answered) or a request it timed out: start again.
  if (status === 408 || /BLOB_UPLOAD_(UNKNOWN|INVALID)/.test(body)) {
    return error(
      `registry ${registry} lost the upload to ${what} (HTTP ${status}${detail}): a retry starts it again`,
      true,
    );
  }
  if (status === 404 && context.notFound) return error(context.notFound, false);
  if (status === 401) {
    return context.hadCredential
      ? error(
          `registry ${registry} refused the credentials to ${what} (HTTP 401${detail}): check the login for ${registry} in the registry auth file (docker login ${registry})`,
          false,
        )
      : error(
          `registry ${registry} needs a login to ${what} (HTTP 401${detail}): run docker login ${registry}, or point REGISTRY_AUTH_FILE at an auth file for it`,
          false,
        );
  }
  if (status === 403)
    return error(
      `registry ${registry} denied permission to ${what} (HTTP 403${detail}): give the account in the registry auth file access to that repository`,
      false,
    );
  if (status === 429)
    return error(`registry ${registry} is rate-limiting requests to ${what} (HTTP 429${detail}): retry later`, true);
  if (status >= 500)
    return error(
      `registry ${registry} failed to ${what} (HTTP ${status}${detail}): a retry may succeed; if it persists, look at the registry's logs`,
      true,
    );
  return error(`registry ${registry} refused to ${what} (HTTP ${status}${detail})`, false);
}

/** The error for a request that got no answer: refused, reset, timed out, or a name or TLS problem. */
export function errorFromFailure(err: unknown, url: string, context: RequestContext): RegistryError {
  const { registry, what } = context;
  const code = failureCode(err);
  const base = new URL(url).origin;
  if (code === 'TIMEOUT')
    return new RegistryError(`registry ${registry} did not answer in time to ${what} (${base}): a retry may succeed`, {
      registry,
      retryable: true,
      cause: err,
    });
  if (code === 'ENOTFOUND')
    return new RegistryError(`cannot resolve the registry host ${registry} to ${what}: check the registry name`, {
      registry,
      retryable: false,
      cause: err,
    });
  if (code === 'ECONNREFUSED') {
    return new RegistryError(
      `cannot reach registry ${registry} to ${what} (${code} at ${base}): is the registry running at that address?`,
      { registry, retryable: true, cause: err },
    );
  }
  if (code && TRANSIENT_CODES.has(code)) {
    return new RegistryError(
      `lost the connection to registry ${registry} trying to ${what} (${code} at ${base}): a retry may succeed`,
      { registry, retryable: true, cause: err },
    );
  }
  if (code && (code.startsWith('ERR_SSL') || code.includes('CERT') || code.startsWith('ERR_TLS'))) {
    return new RegistryError(
      `TLS to registry ${registry} failed to ${what} (${code} at ${base}): if the registry speaks plain HTTP, mark it insecure; if its certificate is private, add its CA (NODE_EXTRA_CA_CERTS)`,
      { registry, retryable: false, cause: err },
    );
  }
  return new RegistryError(
    `request to registry ${registry} failed to ${what} (${code ?? (err as Error).message} at ${base}): a retry may succeed`,
    { registry, retryable: true, cause: err },
  );
}

/** The first error code on the cause chain; undici wraps the socket's error in `fetch failed`. */
function failureCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown; name?: string } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.name === 'TimeoutError') return 'TIMEOUT';
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** The registry's own words from a distribution error body (`{"errors":[{code, message}]}`), or a short text. */
function registrySays(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ');
    }
  } catch {
    /* not JSON: fall through */
  }
  return body.trim().slice(0, 200);
}
