import { parseAuthChallenges } from './auth-challenge';
import type { RegistryCredential } from './registry-auth';
import { errorFromResponse, RegistryError } from './registry-error';
import { fetchBuffered, type RegistryRequest } from './registry-http';

/**
 * The Authorization header for each request to one registry. It starts anonymous and learns the
 * registry's scheme from its first 401, as docker does: Basic sends the credential with every request;
 * Bearer (the distribution token protocol) fetches a token per scope from the challenge's realm, with
 * the credential when there is one, and keeps it until shortly before it expires.
 */

/** A repository scope in the token protocol's words, e.g. `repository:shop/api:pull,push`. */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

type Scheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

/** Tokens that say nothing of their lifetime live 60 s (the token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew a token this long before it expires, so it does not run out in flight. */
const RENEW_MARGIN_MS = 10_000;

export class RegistryAuthorizer {
  private scheme: Scheme | undefined;
  /** Tokens by scope key; a promise, so that concurrent requests for one scope share one fetch. */
  private readonly tokens = new Map<string, Promise<{ header: string; expiresAt: number }>>();
  /** Scopes a challenge asked for beyond ours, by our scope key. */
  private readonly askedScopes = new Map<string, string>();

  constructor(
    private readonly registry: string,
    private readonly credential: RegistryCredential | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** Whether there is a credential to present (to word a 401). */
  get hasCredential(): boolean {
    return this.credential !== undefined;
  }

  /** The header for a request needing these scopes; fetches a token first when the registry wants Bearer. */
  async header(scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
    const scheme = this.scheme;
    if (scheme === undefined) return undefined;
    if (scheme.kind === 'basic') return basicHeader(this.credential);
    const key = scopes.join(' ');
    const cached = this.tokens.get(key);
    if (cached) {
      // A shared fetch that failed (perhaps aborted by its requester) is no answer for us: fetch anew.
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return token.header;
    }
    const asked = this.askedScopes.get(key);
    const fresh = this.fetchToken(scheme, asked ? [...scopes, asked] : scopes, signal);
    this.tokens.set(key, fresh);
    try {
      return (await fresh).header;
    } catch (err) {
      if (this.tokens.get(key) === fresh) this.tokens.delete(key);
      throw err;
    }
  }

  /**
   * Learns from a 401's `WWW-Authenticate`: true when a retry with a new header may succeed, false when
   * the registry wants something we cannot give (a login we lack, or one it just refused).
   */
  challenged(wwwAuthenticate: string | null, scopes: readonly string[]): boolean {
    const challenges = parseAuthChallenges(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const key = scopes.join(' ');
    if (bearer) {
      this.scheme = { kind: 'bearer', realm: bearer.params.realm, service: bearer.params.service };
      this.tokens.delete(key);
      const asked = bearer.params.scope;
      if (asked && !scopes.includes(asked)) this.askedScopes.set(key, asked);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (this.scheme?.kind === 'basic' || !this.credential || !('username' in this.credential)) return false;
      this.scheme = { kind: 'basic' };
      return true;
    }
    return false;
  }

  private async fetchToken(
    scheme: Extract<Scheme, { kind: 'bearer' }>,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ header: string; expiresAt: number }> {
    const credential = this.credential;
    if (credential && 'token' in credential && credential.kind !== 'identity') {
      return { header: `Bearer ${credential.token}`, expiresAt: Number.POSITIVE_INFINITY };
    }
    const realm = this.realmUrl(scheme.realm, credential !== undefined);
    const what = `get a token for ${scopes.join(' ')} from ${realm.origin}${realm.pathname}`;
    const context = { registry: this.registry, what, hadCredential: credential !== undefined };
    let init: RegistryRequest;
    if (credential && 'token' in credential) {
      // An identity token is an OAuth2 refresh token: exchange it (docker's flow for such logins).
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.token,
        client_id: 'meridian',
      });
      if (scheme.service) form.set('service', scheme.service);
      form.set('scope', scopes.join(' '));
      init = {
        method: 'POST',
        body: Buffer.from(form.toString()),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      };
    } else {
      if (scheme.service) realm.searchParams.set('service', scheme.service);
      for (const scope of scopes) realm.searchParams.append('scope', scope);
      if (credential) realm.searchParams.set('account', credential.username);
      const authorization = basicHeader(credential);
      init = { method: 'GET', headers: authorization ? { authorization } : {} };
    }
    const answer = await fetchBuffered(realm.toString(), init, { context, signal, timeoutMs: this.timeoutMs });
    if (answer.status !== 200)
      throw errorFromResponse(answer.status === 403 ? 401 : answer.status, answer.body.toString('utf8'), context);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(answer.body.toString('utf8')) as typeof parsed;
    } catch {
      parsed = {};
    }
    const token = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError(
        `the token server of registry ${this.registry} answered without a token to ${what}: check the registry's auth setup`,
        { registry: this.registry, retryable: false },
      );
    }
    const seconds =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_SECONDS;
    return { header: `Bearer ${token}`, expiresAt: Date.now() + seconds * 1000 - RENEW_MARGIN_MS };
  }

  /** The realm as a URL; a credential goes only over https, or to a loopback token server. */
  private realmUrl(realm: string, withCredential: boolean): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(
        `registry ${this.registry} named a token realm that is not a URL (${JSON.stringify(realm)}): check the registry's auth setup`,
        { registry: this.registry, retryable: false },
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError(
        `registry ${this.registry} named a token realm that is not http(s) (${url.protocol}): check the registry's auth setup`,
        { registry: this.registry, retryable: false },
      );
    }
    if (withCredential && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      throw new RegistryError(
        `registry ${this.registry} asks for credentials at ${url.origin} over plain http: refusing to send them unencrypted; serve its token realm over https`,
        { registry: this.registry, retryable: false },
      );
    }
    return url;
  }
}

/** Whether a host name (without port) is this machine: such registries default to plain http, like docker's. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function basicHeader(credential: RegistryCredential | undefined): string | undefined {
  if (!credential || !('username' in credential)) return undefined;
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}
