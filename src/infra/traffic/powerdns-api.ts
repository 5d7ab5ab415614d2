import { InvalidInputError, UnreachableError } from '../../domain/errors';

/** Where a PowerDNS Authoritative server's HTTP API is, and the key it wants. */
export interface PowerDnsEndpoint {
  /** Base URL of the API: `http://127.0.0.1:8281`. */
  api: string;
  /** The server id in the API's paths; `localhost` unless the API fronts several. */
  server: string;
  /** The API key (X-API-Key). Never logged, never part of an error message. */
  apiKey: string;
  /** How long one request may take; default 10 s. */
  timeoutMs?: number;
}

/** One resource record set as the API writes it. */
export interface RRSetChange {
  name: string;
  type: string;
  ttl?: number;
  changetype: 'REPLACE' | 'DELETE';
  records?: Array<{ content: string; disabled: boolean }>;
  comments?: Array<{ content: string; account: string; modified_at?: number }>;
}

export interface ZoneRRSet {
  name: string;
  type: string;
  ttl: number;
  records: Array<{ content: string; disabled: boolean }>;
  comments?: Array<{ content: string; account: string; modified_at?: number }>;
}

/** The most of an API answer read: a zone of a few thousand records fits many times over. */
const maxResponseBytes = 16 * 1024 * 1024;

/**
 * A small client of the PowerDNS HTTP API (/api/v1): zones, their record sets and metadata, and the
 * server's settings. Network failures and 5xx answers are unreachable (a retry may help); 4xx answers
 * are the request's or the setup's fault and say which.
 */
export class PowerDnsApi {
  constructor(private readonly endpoint: PowerDnsEndpoint) {}

  /** The zone with its record sets; undefined if the server has no such zone. */
  async zone(zone: string): Promise<{ name: string; rrsets: ZoneRRSet[] } | undefined> {
    return this.request('GET', this.zonePath(zone), undefined, { notFound: 'undefined' }) as Promise<
      { name: string; rrsets: ZoneRRSet[] } | undefined
    >;
  }

  async patchRRSets(zone: string, rrsets: RRSetChange[]): Promise<void> {
    await this.request('PATCH', this.zonePath(zone), { rrsets });
  }

  /** Every metadata item of the zone: kind → values. */
  async metadata(zone: string): Promise<Map<string, string[]>> {
    const items = (await this.request('GET', `${this.zonePath(zone)}/metadata`)) as Array<{
      kind?: unknown;
      metadata?: unknown;
    }>;
    const out = new Map<string, string[]>();
    for (const item of Array.isArray(items) ? items : []) {
      if (typeof item.kind === 'string' && Array.isArray(item.metadata))
        out.set(
          item.kind,
          item.metadata.filter((v): v is string => typeof v === 'string'),
        );
    }
    return out;
  }

  /** Sets one metadata kind (custom kinds start with X-) to `values`, replacing what it held. */
  async putMetadata(zone: string, kind: string, values: string[]): Promise<void> {
    await this.request('PUT', `${this.zonePath(zone)}/metadata/${encodeURIComponent(kind)}`, {
      kind,
      metadata: values,
    });
  }

  /** The server's settings as it runs: name → value. */
  async config(): Promise<Map<string, string>> {
    const items = (await this.request('GET', `/api/v1/servers/${encodeURIComponent(this.endpoint.server)}/config`)) as
      Array<{ name?: unknown; value?: unknown }> | undefined;
    const out = new Map<string, string>();
    for (const item of Array.isArray(items) ? items : []) {
      if (typeof item.name === 'string' && typeof item.value === 'string') out.set(item.name, item.value);
    }
    return out;
  }

  /** Version of the server (from /api/v1/servers/<id>). */
  async version(): Promise<string> {
    const info = (await this.request('GET', `/api/v1/servers/${encodeURIComponent(this.endpoint.server)}`)) as {
      version?: unknown;
    };
    return typeof info.version === 'string' ? info.version : 'unknown';
  }

  private zonePath(zone: string): string {
    const name = zone.endsWith('.') ? zone : `${zone}.`;
    return `/api/v1/servers/${encodeURIComponent(this.endpoint.server)}/zones/${encodeURIComponent(name)}`;
  }

  /**
   * Every call here is idempotent (reads, REPLACE patches, metadata puts), so a 5xx is asked again a
   * few times: PowerDNS on SQLite answers 500 when two writers meet (regions deploying in parallel).
   */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    options: { notFound?: 'undefined' } = {},
  ): Promise<unknown> {
    const pauses = [100, 300, 900];
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(method, path, body, options);
      } catch (err) {
        if (!(err instanceof ServerSideError) || attempt >= pauses.length) throw err;
        await new Promise((resolve) => setTimeout(resolve, pauses[attempt] * (0.5 + Math.random())));
      }
    }
  }

  private async requestOnce(
    method: string,
    path: string,
    body: unknown,
    { notFound }: { notFound?: 'undefined' },
  ): Promise<unknown> {
    const url = new URL(path, this.endpoint.api.endsWith('/') ? this.endpoint.api : `${this.endpoint.api}/`);
    const where = `PowerDNS API at ${this.endpoint.api}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          'X-API-Key': this.endpoint.apiKey,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.endpoint.timeoutMs ?? 10_000),
        redirect: 'error',
      });
    } catch (err) {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new UnreachableError(`${where} did not answer ${method} ${url.pathname} (${reason})`);
    }
    const text = await boundedText(response, where);
    if (response.status === 404 && notFound === 'undefined') return undefined;
    if (!response.ok) {
      const detail = apiError(text);
      if (response.status >= 500 || response.status === 429)
        throw new ServerSideError(`${where} answered ${response.status} to ${method} ${url.pathname}: ${detail}`);
      if (response.status === 401 || response.status === 403)
        throw new InvalidInputError(
          `${where} refused the API key (${response.status}): give the worker the server's api-key (see spec.traffic.provider.powerdns.apiKey)`,
        );
      throw new InvalidInputError(`${where} refused ${method} ${url.pathname} (${response.status}): ${detail}`);
    }
    if (text.length === 0) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UnreachableError(`${where} answered ${method} ${url.pathname} with something that is not JSON`);
    }
  }
}

/** A 5xx or 429: the server's trouble, worth asking again. */
class ServerSideError extends UnreachableError {}

async function boundedText(response: Response, where: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxResponseBytes) {
      await reader.cancel();
      throw new UnreachableError(`${where} answered with more than ${maxResponseBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** PowerDNS's own words from an error answer ({"error": "..."}), one line, bounded. */
function apiError(text: string): string {
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // not JSON: quote the text itself
  }
  const line = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line || '(no detail)';
}
