import { z } from 'zod';
import { InvalidInputError } from './errors';
import { maxExcerptChars, quoteExcerpt } from './excerpt';
import { formatZodIssues } from './zod-issues';

/**
 * Recorded production traffic, read for the load test to replay: JSON Lines (one request per line, with
 * method, headers and body) or the access log of nginx or Apache in the combined or common format (method,
 * path, and the user agent and referer when logged). Pure: the caller reads the file.
 */

/** One recorded request, ready to send again. */
export interface RecordedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** Path and query, starting with `/`; anything outside printable ASCII is percent-encoded. */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Body as text; sent as UTF-8. */
  body?: string;
}

/** jsonl: one JSON object per line. combined: an nginx or Apache access log (combined or common format). */
export type TrafficFormat = 'jsonl' | 'combined';

/** Problems listed in the error message; the rest are counted. */
const listedProblems = 10;

/**
 * Longest line read, by format. A request line nginx accepts is at most a few KiB (its default header
 * buffers are 8k); a JSON line may carry a body, and the packed recording is limited to 1 MiB anyway.
 */
export const maxLineChars: Record<TrafficFormat, number> = { jsonl: 1024 * 1024, combined: 64 * 1024 };

/** An RFC 9110 token: what a method or a header name may be made of. */
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Reads recorded traffic. `source` names the file in error messages. Without `format`, the first non-blank
 * line decides: a line starting with `{` is JSON Lines, anything else an access log. Every line that cannot
 * be replayed is reported at once in one InvalidInputError, a `source:LINE: what is wrong and the fix` line
 * each. Blank lines are skipped, and so are access log lines whose request is `-` (a connection that sent
 * no request, which nginx logs with status 400): there is nothing to replay in them. Lines longer than
 * maxLineChars are refused unread, and reading is linear in the text (no backtracking regular expression
 * meets a whole line), so a hostile recording costs no more than its size.
 */
export function parseRecordedTraffic(text: string, source: string, format?: TrafficFormat): RecordedRequest[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const chosen = format ?? detectTrafficFormat(lines);
  const parseLine = chosen === 'jsonl' ? parseJsonLine : parseLogLine;
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  lines.forEach((raw, i) => {
    if (raw.length > maxLineChars[chosen]) {
      problems.push(
        `${source}:${i + 1}: the line ${quoteExcerpt(raw)} is longer than the ${maxLineChars[chosen]} characters a line of ${formatName[chosen]} may have: remove it or cut it short`,
      );
      return;
    }
    if (raw.trim() === '') return;
    const parsed = parseLine(raw.trim());
    if (typeof parsed === 'string') problems.push(`${source}:${i + 1}: ${parsed}`);
    else if (Array.isArray(parsed)) problems.push(...parsed.map((p) => `${source}:${i + 1}: ${p}`));
    else if (parsed) requests.push(parsed);
  });
  if (problems.length > 0) {
    const listed = problems.slice(0, listedProblems).map((p) => `  ${p}`);
    if (problems.length > listedProblems) listed.push(`  and ${problems.length - listedProblems} more`);
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    // The list is in the message, which callers pass on whole; `problems` would have the CLI print it twice.
    throw new InvalidInputError(
      `recorded traffic ${source} (${formatName[chosen]}) has ${count}:\n${listed.join('\n')}`,
    );
  }
  if (requests.length === 0) {
    throw new InvalidInputError(
      `recorded traffic ${source} holds no request: give at least one ${chosen === 'jsonl' ? 'JSON line such as {"method":"GET","path":"/"}' : 'access log line'}`,
    );
  }
  return requests;
}

const formatName: Record<TrafficFormat, string> = { jsonl: 'JSON Lines', combined: 'access log' };

/** JSON Lines when the first non-blank line starts with `{`, else an access log. */
function detectTrafficFormat(lines: readonly string[]): TrafficFormat {
  const first = lines.find((l) => l.trim() !== '');
  return first?.trim().startsWith('{') ? 'jsonl' : 'combined';
}

/** A line of JSON Lines. Fields other than these (a timestamp, the status seen) are ignored. */
const jsonLineSchema = z.looseObject({
  method: z.string().regex(token, 'expected an HTTP method such as GET or POST'),
  path: z.string().min(1, 'expected a path starting with /, such as /search?q=1'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  json: z.unknown().optional(),
});

/** One JSON line: a request, or what is wrong with it. */
function parseJsonLine(line: string): RecordedRequest | string | string[] {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${(err as Error).message}): write one object per line, such as {"method":"GET","path":"/healthz"}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'not a JSON object: write one object per line, such as {"method":"GET","path":"/healthz"}';
  }
  const parsed = jsonLineSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) return formatZodIssues(parsed.error, '', jsonLineSchema);
  const { method, path } = parsed.data;
  // Only the line's own fields: JSON.parse makes `__proto__` an own key, never a prototype, and nothing
  // read here may come from Object.prototype.
  const own = (key: string) => Object.hasOwn(value, key);
  const body = own('body') ? parsed.data.body : undefined;
  const json = own('json') ? parsed.data.json : undefined;
  const problems: string[] = [];
  const target = requestTarget(new TextEncoder().encode(path));
  if (typeof target !== 'string') problems.push(target.problem);
  // The headers as JSON.parse made them: zod's record leaves out a header named __proto__.
  const given = own('headers') ? Object.entries((value as { headers: object }).headers) : [];
  const headers = checkHeaders(given, problems);
  if (body !== undefined && json !== undefined)
    problems.push('both body and json are given: keep one (json is sent as JSON text)');
  if (problems.length > 0 || typeof target !== 'string') return problems;
  const request: RecordedRequest = { method: method.toUpperCase(), path: target, headers };
  if (json !== undefined) {
    request.body = JSON.stringify(json);
    headers['content-type'] ??= 'application/json';
  } else if (body !== undefined) request.body = body;
  return request;
}

/** A valid header name as a problem names it: as it is when short (a token holds no quote or control character), else an excerpt. */
function headerName(name: string): string {
  return name.length <= maxExcerptChars ? name : quoteExcerpt(name);
}

/**
 * Header names lower-cased; names must be tokens and values one line, or a request could be split in two.
 * The result has no prototype, so any name (`constructor`, `__proto__`) is a header like the others.
 */
function checkHeaders(given: Iterable<[string, unknown]>, problems: string[]): Record<string, string> {
  const headers = Object.create(null) as Record<string, string>;
  for (const [name, value] of given) {
    const key = name.toLowerCase();
    if (!token.test(name))
      problems.push(
        `header name ${quoteExcerpt(name)} is not a valid HTTP header name: use letters, digits and - only`,
      );
    else if (typeof value !== 'string') problems.push(`header ${headerName(name)}: expected a string`);
    else if (/[\r\n\0]/.test(value))
      problems.push(`header ${headerName(name)} holds a line break or NUL: a header value is one line`);
    else if (Object.hasOwn(headers, key))
      problems.push(`header ${headerName(name)} is given twice (names are case-insensitive): keep one`);
    else headers[key] = value;
  }
  return headers;
}

/** The fields of an access log line: the request, and the referer and user agent when logged. */
interface LogFields {
  request: string;
  referer?: string;
  userAgent?: string;
}

/**
 * Reads an access log line, in one pass: `host ident user [time] "request" status bytes`, then in the
 * combined format `"referer" "user-agent"`. Anything after that (fields added by a custom log_format) is
 * ignored. Undefined when the line is not in that shape.
 */
function scanLogLine(line: string): LogFields | undefined {
  let at = 0;
  const nonSpace = () => {
    const from = at;
    while (at < line.length && !/\s/.test(line[at])) at++;
    return at > from;
  };
  const literal = (text: string) => {
    if (!line.startsWith(text, at)) return false;
    at += text.length;
    return true;
  };
  /** A quoted field, `\` escaping the next character (any but a line break); its text, without the quotes. */
  const quoted = (): string | undefined => {
    if (line[at] !== '"') return undefined;
    const from = ++at;
    while (at < line.length) {
      const ch = line[at];
      if (ch === '"') return line.slice(from, at++);
      if (ch === '\\') {
        if (at + 1 >= line.length || /[\r\n\u2028\u2029]/.test(line[at + 1])) return undefined;
        at += 2;
      } else at++;
    }
    return undefined;
  };
  const digits = (exactly?: number) => {
    const from = at;
    while (at < line.length && line.charCodeAt(at) >= 0x30 && line.charCodeAt(at) <= 0x39) at++;
    return exactly === undefined ? at > from : at - from === exactly;
  };
  for (let i = 0; i < 3; i++) if (!nonSpace() || !literal(' ')) return undefined;
  if (!literal('[')) return undefined;
  const close = line.indexOf(']', at);
  if (close < 0) return undefined;
  at = close + 1;
  if (!literal(' ')) return undefined;
  const request = quoted();
  if (request === undefined || !literal(' ')) return undefined;
  if (!literal('-') && !digits(3)) return undefined;
  if (!literal(' ')) return undefined;
  if (!literal('-') && !digits()) return undefined;
  if (at === line.length) return { request };
  if (line[at] !== ' ') return undefined;
  // The combined format's two fields, when they are there and end the line or a space follows them.
  const rest = at;
  at++;
  const referer = quoted();
  if (referer !== undefined && literal(' ')) {
    const userAgent = quoted();
    if (userAgent !== undefined && (at === line.length || line[at] === ' ')) return { request, referer, userAgent };
  }
  at = rest;
  return { request };
}

/** One access log line: a request, nothing (a `-` request), or what is wrong with it. */
function parseLogLine(line: string): RecordedRequest | string | string[] | undefined {
  const fields = scanLogLine(line);
  if (!fields) {
    return 'not an access log line in the combined or common format (host ident user [time] "GET /path HTTP/1.1" status bytes "referer" "user-agent"): fix or remove the line';
  }
  const { request, referer, userAgent } = fields;
  if (request === '-') return undefined;
  const bytes = unescapeLogField(request);
  const parts = splitRequestLine(bytes);
  if (!parts) {
    return `the request ${JSON.stringify(request.slice(0, 60))} is not "METHOD /path HTTP/1.1": remove the line, it records no request that can be replayed`;
  }
  // The target's bytes: raw UTF-8 in a logged path is percent-encoded.
  const target = requestTarget(parts.target);
  if (typeof target !== 'string') return target.problem;
  const logged: [string, string][] = [];
  const text = (field: string) => new TextDecoder().decode(unescapeLogField(field));
  if (userAgent !== undefined && userAgent !== '-') logged.push(['user-agent', text(userAgent)]);
  if (referer !== undefined && referer !== '-') logged.push(['referer', text(referer)]);
  const problems: string[] = [];
  const headers = checkHeaders(logged, problems);
  return problems.length > 0 ? problems : { method: parts.method.toUpperCase(), path: target, headers };
}

/** ASCII whitespace, as `\s` sees it in a request line. */
const isSpaceByte = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** `METHOD target[ HTTP/d[.d]]` as bytes: the method (a token) and the target's bytes; undefined otherwise. */
function splitRequestLine(bytes: Uint8Array): { method: string; target: Uint8Array } | undefined {
  let end = 0;
  while (end < bytes.length && !isSpaceByte(bytes[end])) end++;
  if (end === 0 || end > 64 || bytes[end] !== 0x20) return undefined;
  const method = String.fromCharCode(...bytes.subarray(0, end));
  if (!token.test(method)) return undefined;
  const from = end + 1;
  let to = from;
  while (to < bytes.length && !isSpaceByte(bytes[to])) to++;
  if (to === from) return undefined;
  const version = String.fromCharCode(...bytes.subarray(to, Math.min(bytes.length, to + 10)));
  if (to + version.length !== bytes.length || !/^(?: HTTP\/\d(?:\.\d)?)?$/.test(version)) return undefined;
  return { method, target: bytes.subarray(from, to) };
}

const isHexDigit = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/**
 * A quoted log field as bytes. nginx writes `"`, `\` and bytes outside printable ASCII as `\xHH`; Apache
 * writes `\"` and `\\`, and `\xhh` for the rest. A log written without escaping holds raw UTF-8.
 */
function unescapeLogField(field: string): Uint8Array {
  const encoder = new TextEncoder();
  const out = new Uint8Array(field.length * 3);
  let length = 0;
  let at = 0;
  while (at < field.length) {
    const slash = field.indexOf('\\', at);
    const plainEnd = slash < 0 ? field.length : slash;
    // The text up to the next escape, encoded at once.
    if (plainEnd > at) length += encoder.encodeInto(field.slice(at, plainEnd), out.subarray(length)).written;
    if (slash < 0) break;
    const next = field.charCodeAt(slash + 1);
    if (next === 0x78 && isHexDigit(field.charCodeAt(slash + 2)) && isHexDigit(field.charCodeAt(slash + 3))) {
      out[length++] = parseInt(field.slice(slash + 2, slash + 4), 16);
      at = slash + 4;
    } else if (next < 0x80) {
      out[length++] = next === 0x6e ? 0x0a : next === 0x74 ? 0x09 : next;
      at = slash + 2;
    } else if (slash + 1 < field.length) {
      const escaped = String.fromCodePoint(field.codePointAt(slash + 1)!);
      length += encoder.encodeInto(escaped, out.subarray(length)).written;
      at = slash + 1 + escaped.length;
    } else {
      out[length++] = 0x5c;
      at = slash + 1;
    }
  }
  return out.slice(0, length);
}

/**
 * A request target as sent on the wire: printable ASCII, with other bytes percent-encoded and any
 * fragment dropped (browsers never send one). A full http(s) URL gives its path and query.
 */
function requestTarget(bytes: Uint8Array): string | { problem: string } {
  const hex = '0123456789ABCDEF';
  let target = '';
  let codes: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b > 0x20 && b < 0x7f) codes.push(b);
    else codes.push(0x25, hex.charCodeAt(b >> 4), hex.charCodeAt(b & 15));
    // Character codes in chunks: one string per byte would make a long path slow.
    if (codes.length >= 4096 || i === bytes.length - 1) {
      target += String.fromCharCode(...codes);
      codes = [];
    }
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return url.pathname + url.search;
    } catch {
      return {
        problem: `the URL ${quoteExcerpt(target)} cannot be read: give a path starting with /, such as /search?q=1`,
      };
    }
  }
  if (!target.startsWith('/'))
    return {
      problem: `the path ${quoteExcerpt(target)} does not start with /: give a path such as /search?q=1 (or a full http(s) URL)`,
    };
  return target;
}

/*
 * Credentials in a recording. The recording travels in workflow history (the staging region's input), so
 * whatever could let someone act as a recorded user is taken out before a release starts:
 *   - headers named in credentialHeaderNames, or whose name holds a word of credentialHeaderWords;
 *   - headers whose value looks like a credential (an HTTP auth scheme and its token, or a JWT);
 *   - query parameters, of the path and of a recorded Referer, whose name is one of
 *     credentialQueryNames or has a word of credentialQueryWords (`api_key`, `X-Amz-Signature`,
 *     `sessionToken`), or whose value looks like a credential.
 * Bodies are replayed as recorded: record the requests the load test needs, not a login flow.
 */

/** Headers that always carry credentials. */
const credentialHeaderNames = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-amz-security-token',
  'x-goog-api-key',
  'x-csrf-token',
  'x-xsrf-token',
]);

/** Any header whose name holds one of these is dropped (`x-session-id`, `x-client-secret`, `x-shop-apikey`). */
const credentialHeaderWords = /token|secret|key|auth|session|passw|pwd|credential|signature|cookie|csrf|xsrf/i;

/** Query parameters that carry credentials, compared without case. */
const credentialQueryNames = new Set([
  'sig',
  'pwd',
  'pass',
  'jwt',
  'otp',
  'sid',
  'jsessionid',
  'phpsessid',
  'aspsessionid',
  'sessid',
  'code_verifier',
]);

/**
 * Words that make a query parameter a credential, where a word is a run of letters and digits split at
 * `_ - .` and at lower-to-upper case changes: `api_key`, `apiKey`, `X-Amz-Signature`, `access_token`,
 * `client_secret`; not `keyword` or `author`.
 */
const credentialQueryWords = new Set([
  'token',
  'secret',
  'key',
  'apikey',
  'auth',
  'authorization',
  'session',
  'sessionid',
  'password',
  'passwd',
  'credential',
  'credentials',
  'signature',
  'sig',
]);

/** An HTTP authentication scheme and its credential (`Bearer …`, `Basic …`, `Token …`). */
const credentialScheme = /^(?:bearer|basic|negotiate|ntlm|dpop|token|apikey|api-key|sso-key)\s+\S/i;
/** Schemes whose credential is a list of parameters (`Digest username="…", response="…"`). */
const credentialParamScheme = /^(?:digest|hawk|aws4-hmac-sha256|oauth|signature)\s+[\w-]+=/i;

/** Whether a header or query value looks like a credential: an auth scheme and its token, or a JWT anywhere in it. */
export function looksLikeCredential(value: string): boolean {
  const trimmed = value.trim();
  if (credentialScheme.test(trimmed) || credentialParamScheme.test(trimmed)) return true;
  // A JWT (or JWE): dot-separated base64url parts, the first a JSON header (`{"` is `eyJ`). Split first,
  // so that no regular expression backtracks over a long value.
  return trimmed.split(/[^\w.-]+/).some((word) => {
    if (!word.startsWith('eyJ')) return false;
    const parts = word.split('.');
    return (parts.length === 3 || parts.length === 5) && parts[1].length > 0 && parts.every((p) => /^[\w-]*$/.test(p));
  });
}

/** Whether a header is dropped from recordings, by its name. */
export function isCredentialHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return credentialHeaderNames.has(lower) || credentialHeaderWords.test(lower);
}

/** Whether a query parameter is dropped from recordings, by its (decoded) name. */
export function isCredentialQueryParameter(name: string): boolean {
  if (credentialQueryNames.has(name.toLowerCase())) return true;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => credentialQueryWords.has(w));
}

/** A query name or value as text: percent-decoded, `+` as a space; as given when it does not decode. */
function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}

/** `pathOrUrl` without credential query parameters, and the names of those it dropped. */
function withoutCredentialQuery(pathOrUrl: string): { cleaned: string; names: string[] } {
  const hash = pathOrUrl.indexOf('#');
  const beforeHash = hash < 0 ? pathOrUrl : pathOrUrl.slice(0, hash);
  const question = beforeHash.indexOf('?');
  if (question < 0) return { cleaned: pathOrUrl, names: [] };
  const names: string[] = [];
  const kept = beforeHash
    .slice(question + 1)
    .split('&')
    .filter((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals < 0 ? pair : pair.slice(0, equals);
      const name = decodeQueryPart(rawName);
      if (
        !isCredentialQueryParameter(name) &&
        (equals < 0 || !looksLikeCredential(decodeQueryPart(pair.slice(equals + 1))))
      )
        return true;
      names.push(rawName.length > 40 ? `${rawName.slice(0, 40)}…` : rawName);
      return false;
    });
  if (names.length === 0) return { cleaned: pathOrUrl, names };
  const query = kept.join('&');
  return {
    cleaned: `${beforeHash.slice(0, question)}${query ? `?${query}` : ''}${hash < 0 ? '' : pathOrUrl.slice(hash)}`,
    names,
  };
}

/**
 * The recording without credentials (see above), and what was dropped from how many requests: a header
 * by its name in lower case, a query parameter as `query parameter NAME`.
 */
export function withoutCredentials(requests: readonly RecordedRequest[]): {
  requests: RecordedRequest[];
  dropped: Map<string, number>;
} {
  const dropped = new Map<string, number>();
  const cleaned = requests.map((request) => {
    const droppedHere = new Set<string>();
    const headers = Object.create(null) as Record<string, string>;
    for (const [name, value] of Object.entries(request.headers)) {
      const key = name.toLowerCase();
      if (isCredentialHeader(key) || looksLikeCredential(value)) {
        droppedHere.add(key);
        continue;
      }
      // A Referer is the page's URL, and carries its query's credentials too.
      if (key === 'referer') {
        const referer = withoutCredentialQuery(value);
        for (const n of referer.names) droppedHere.add(`query parameter ${n}`);
        headers[name] = referer.cleaned;
      } else headers[name] = value;
    }
    const path = withoutCredentialQuery(request.path);
    for (const n of path.names) droppedHere.add(`query parameter ${n}`);
    for (const what of droppedHere) dropped.set(what, (dropped.get(what) ?? 0) + 1);
    return droppedHere.size === 0 ? request : { ...request, path: path.cleaned, headers };
  });
  return { requests: cleaned, dropped };
}
