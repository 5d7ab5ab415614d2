import { ExitCode, InvalidInputError, MeridianError, UnreachableError } from '../domain/errors';
import type { TemporalConnectionConfig } from './connection-config';

/**
 * Temporal refused the credential Meridian sent (gRPC UNAUTHENTICATED or PERMISSION_DENIED), or the TLS
 * handshake failed. Exit code 2 (invalid input), not 3: the server was reached and answered, the fix is
 * in the configuration (another key, certificate, profile or TLS setting), and retrying the same command
 * will not help. The message names which credential or TLS setting, never its value.
 */
export class TemporalCredentialError extends MeridianError {
  readonly exitCode = ExitCode.invalidInput;
}

const grpcPermissionDenied = 7;
const grpcUnauthenticated = 16;
const grpcNotFound = 5;
const grpcUnavailable = 14;

/** The gRPC status code of an error or of its cause (the client wraps them in ServiceError). */
function grpcCode(err: unknown): number | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

function messages(err: unknown): string {
  const parts: string[] = [];
  for (
    let e = err as { message?: unknown; details?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.details === 'string') parts.push(e.details);
    if (typeof e.message === 'string') parts.push(e.message);
  }
  return parts.join('\n');
}

/** The server's own words, first line only, with the API key cut out should a proxy ever echo it. */
function serverMessage(err: unknown, config?: TemporalConnectionConfig): string {
  const e = err as { details?: unknown; message?: unknown; cause?: { details?: unknown; message?: unknown } };
  const raw =
    [e.cause?.details, e.details, e.cause?.message, e.message].find(
      (m): m is string => typeof m === 'string' && m.trim() !== '',
    ) ?? String(err);
  // The native connection's form: Failed to call X: code: '...', message: "the server's words"
  const native = /message: "([^"]*)"/.exec(raw)?.[1];
  let line = (native ?? raw)
    .split('\n')[0]
    .replace(/^\d+ [A-Z_]+: /, '')
    .trim();
  if (config?.apiKey && config.apiKey.length >= 4) line = line.split(config.apiKey).join('<redacted>');
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** True when a failure is the server refusing the credential. */
export function isCredentialRefused(err: unknown): boolean {
  const code = grpcCode(err);
  if (code === grpcUnauthenticated || code === grpcPermissionDenied) return true;
  // The worker's native connection reports tonic statuses in its message, by name or description.
  return unauthenticatedText.test(messages(err)) || permissionDeniedText.test(messages(err));
}

const unauthenticatedText = /\b(Unauthenticated|UNAUTHENTICATED)\b|does not have valid authentication credentials/;
const permissionDeniedText = /\b(PermissionDenied|PERMISSION_DENIED)\b|does not have permission to execute/;

// OpenSSL's words (the client, grpc-js) and rustls' (the worker's native connection).
const tlsText =
  /handshake|SSL|\bTLS\b|certificate|self[- ]signed|unable to verify|wrong version number|CERT_|alert|rustls|InvalidContentType|CorruptMessage|InvalidCertificate|UnknownIssuer|NotValidForName|BadSignature|InappropriateMessage/i;

/** True when a failure is a TLS handshake or certificate problem. */
export function isTlsFailure(err: unknown): boolean {
  return tlsText.test(messages(err)) && !isCredentialRefused(err);
}

function profileNote(config: TemporalConnectionConfig): string {
  return config.profile ? ` (profile ${config.profile})` : '';
}

/**
 * The error a person should see for a failure talking to Temporal with `config`, or undefined when it
 * is none of the connection failures this module knows (then the caller reports it as it was).
 */
export function explainTemporalFailure(err: unknown, config: TemporalConnectionConfig): MeridianError | undefined {
  if (err instanceof MeridianError) return err;
  const at = `Temporal at ${config.address}`;
  if (isCredentialRefused(err)) {
    const said = serverMessage(err, config);
    // Temporal's default claim mapper and authorizer answer the same PERMISSION_DENIED ("Request
    // unauthorized.") for a key that is malformed, expired, signed by an untrusted key, or lacks the
    // namespace: the message names the credential and lists what to check, without guessing which.
    if (config.apiKey !== undefined) {
      return new TemporalCredentialError(
        `${at} refused the API key from ${config.sources.apiKey}${profileNote(config)}: ${said}: the key is invalid, expired, signed by a key the server does not trust, or has no access to namespace "${config.namespace}"; check it, or set another`,
      );
    }
    if (config.sources.clientCert) {
      return new TemporalCredentialError(
        `${at} refused the request made with the client certificate from ${config.sources.clientCert}${profileNote(config)} and no API key: ${said}: if the server authorizes API keys, set TEMPORAL_API_KEY (or a profile's api_key); otherwise check that namespace "${config.namespace}" accepts this certificate's CA`,
      );
    }
    return new TemporalCredentialError(
      `${at} asks for a credential and no credential was given: ${said}: set TEMPORAL_API_KEY, or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or a profile (TEMPORAL_PROFILE) in temporal.toml`,
    );
  }
  if (isTlsFailure(err)) {
    return new TemporalCredentialError(
      `TLS with ${at} failed: ${serverMessage(err, config)}: the connection used ${config.sources.tls}${profileNote(config)}; check TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_NAME, or set TEMPORAL_TLS=false for a server without TLS`,
    );
  }
  if (grpcCode(err) === grpcNotFound && /namespace/i.test(messages(err))) {
    return new InvalidInputError(
      `${at} has no namespace "${config.namespace}": ${serverMessage(err, config)}: set TEMPORAL_NAMESPACE (or the profile's namespace)`,
    );
  }
  if (
    grpcCode(err) === grpcUnavailable ||
    (err as Error)?.name === 'TransportError' ||
    /ECONNREFUSED|Failed to connect|connection refused|UNAVAILABLE|DEADLINE_EXCEEDED/i.test(messages(err))
  ) {
    const local = !config.configFile && !config.apiKey && !config.tls;
    // A TLS client talking to a plaintext server often sees only a timeout: name the TLS settings too.
    const hint = local
      ? 'start the local rig with `meridian dev up`, or set TEMPORAL_ADDRESS (or a profile)'
      : config.tls
        ? `check the address and the TLS settings (${config.sources.tls}${profileNote(config)}); a server without TLS needs TEMPORAL_TLS=false${
            config.sources.clientCert
              ? ''
              : ", and one that requires mutual TLS also needs TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or a profile's client_cert_path and client_key_path)"
          }`
        : 'check the address, and set TEMPORAL_TLS=true if the server expects TLS';
    return new UnreachableError(`cannot reach ${at} (${serverMessage(err, config)}): ${hint}`);
  }
  return undefined;
}
