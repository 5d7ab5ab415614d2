import { z } from 'zod';
import { InvalidInputError } from './errors';
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

/** An RFC 9110 token: what a method or a header name may be made of. */
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Reads recorded traffic. `source` names the file in error messages. Without `format`, the first non-blank
 * line decides: a line starting with `{` is JSON Lines, anything else an access log. Every line that cannot
 * be replayed is reported at once in one InvalidInputError, a `source:LINE: what is wrong and the fix` line
 * each. Blank lines are skipped, and so are access log lines whose request is `-` (a connection that sent
 * no request, which nginx logs with status 400): there is nothing to replay in them.
 */
export function parseRecordedTraffic(text: string, source: string, format?: TrafficFormat): RecordedRequest[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const chosen = format ?? detectTrafficFormat(lines);
  const parseLine = chosen === 'jsonl' ? parseJsonLine : parseLogLine;
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  lines.forEach((raw, i) => {
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
    throw new InvalidInputError(`recorded traffic ${source} (${formatName[chosen]}) has ${count}:\n${listed.join('\n')}`);
  }
  if (requests.length === 0) {
    throw new InvalidInputError(`recorded traffic ${source} holds no request: give at least one ${chosen === 'jsonl' ? 'JSON line such as {"method":"GET","path":"/"}' : 'access log line'}`);
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
  const { method, path, body, json } = parsed.data;
  const problems: string[] = [];
  const target = requestTarget(new TextEncoder().encode(path));
  if (typeof target !== 'string') problems.push(target.problem);
  const headers = checkHeaders(parsed.data.headers, problems);
  if (body !== undefined && json !== undefined) problems.push('both body and json are given: keep one (json is sent as JSON text)');
  if (problems.length > 0 || typeof target !== 'string') return problems;
  const request: RecordedRequest = { method: method.toUpperCase(), path: target, headers };
  if (json !== undefined) {
    request.body = JSON.stringify(json);
    headers['content-type'] ??= 'application/json';
  } else if (body !== undefined) request.body = body;
  return request;
}

/** Header names lower-cased; names must be tokens and values one line, or a request could be split in two. */
function checkHeaders(given: Record<string, string>, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const key = name.toLowerCase();
    if (!token.test(name)) problems.push(`header name ${JSON.stringify(name)} is not a valid HTTP header name: use letters, digits and - only`);
    else if (/[\r\n\0]/.test(value)) problems.push(`header ${name} holds a line break or NUL: a header value is one line`);
    else if (key in headers) problems.push(`header ${name} is given twice (names are case-insensitive): keep one`);
    else headers[key] = value;
  }
  return headers;
}

/**
 * The access log formats: `host ident user [time] "request" status bytes`, then in the combined format
 * `"referer" "user-agent"`. Anything after that (fields added by a custom log_format) is ignored.
 */
const logLine = /^\S+ \S+ \S+ \[[^\]]*\] "((?:[^"\\]|\\.)*)" (?:\d{3}|-) (?:\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?: .*)?$/;
const requestLine = /^(\S+) (\S+)(?: HTTP\/\d(?:\.\d)?)?$/;

/** One access log line: a request, nothing (a `-` request), or what is wrong with it. */
function parseLogLine(line: string): RecordedRequest | string | string[] | undefined {
  const match = logLine.exec(line);
  if (!match) {
    return 'not an access log line in the combined or common format (host ident user [time] "GET /path HTTP/1.1" status bytes "referer" "user-agent"): fix or remove the line';
  }
  const [, request, referer, userAgent] = match;
  if (request === '-') return undefined;
  const bytes = unescapeLogField(request);
  // One character per byte, so that offsets in the text are offsets in the bytes.
  const parts = requestLine.exec(bytes.map((b) => (b < 0x80 ? String.fromCharCode(b) : '?')).join(''));
  if (!parts || !token.test(parts[1])) {
    return `the request ${JSON.stringify(request.slice(0, 60))} is not "METHOD /path HTTP/1.1": remove the line, it records no request that can be replayed`;
  }
  // The target's bytes, not the ASCII stand-ins above: raw UTF-8 in a logged path is percent-encoded.
  const target = requestTarget(bytes.slice(parts[1].length + 1, parts[1].length + 1 + parts[2].length));
  if (typeof target !== 'string') return target.problem;
  const logged: Record<string, string> = {};
  const text = (field: string) => new TextDecoder().decode(Uint8Array.from(unescapeLogField(field)));
  if (userAgent !== undefined && userAgent !== '-') logged['user-agent'] = text(userAgent);
  if (referer !== undefined && referer !== '-') logged.referer = text(referer);
  const problems: string[] = [];
  const headers = checkHeaders(logged, problems);
  return problems.length > 0 ? problems : { method: parts[1].toUpperCase(), path: target, headers };
}

/**
 * A quoted log field as bytes. nginx writes `"`, `\` and bytes outside printable ASCII as `\xHH`; Apache
 * writes `\"` and `\\`, and `\xhh` for the rest. A log written without escaping holds raw UTF-8.
 */
function unescapeLogField(field: string): number[] {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < field.length; i++) {
    const ch = field[i];
    const hex = ch === '\\' ? /^x([0-9a-fA-F]{2})/.exec(field.slice(i + 1, i + 4)) : null;
    if (hex) {
      bytes.push(parseInt(hex[1], 16));
      i += 3;
    } else if (ch === '\\' && i + 1 < field.length) {
      const next = field[++i];
      bytes.push(...encoder.encode(next === 'n' ? '\n' : next === 't' ? '\t' : next));
    } else {
      const cp = field.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...encoder.encode(String.fromCodePoint(cp)));
    }
  }
  return bytes;
}

/**
 * A request target as sent on the wire: printable ASCII, with other bytes percent-encoded and any
 * fragment dropped (browsers never send one). A full http(s) URL gives its path and query.
 */
function requestTarget(bytes: Uint8Array | number[]): string | { problem: string } {
  let target = '';
  for (const b of bytes) target += b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  target = target.replace(/#.*$/, '');
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return url.pathname + url.search;
    } catch {
      return { problem: `the URL ${JSON.stringify(target)} cannot be read: give a path starting with /, such as /search?q=1` };
    }
  }
  if (!target.startsWith('/')) return { problem: `the path ${JSON.stringify(target)} does not start with /: give a path such as /search?q=1 (or a full http(s) URL)` };
  return target;
}

/** Headers that carry credentials: recorded ones never enter workflow history. */
const credentialHeaders = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-auth-token', 'x-csrf-token']);

/** The recording without credential headers, and which headers were dropped from how many requests. */
export function withoutCredentials(requests: readonly RecordedRequest[]): { requests: RecordedRequest[]; dropped: Map<string, number> } {
  const dropped = new Map<string, number>();
  const cleaned = requests.map((request) => {
    const names = Object.keys(request.headers).filter((name) => credentialHeaders.has(name.toLowerCase()));
    if (names.length === 0) return request;
    for (const name of names) dropped.set(name.toLowerCase(), (dropped.get(name.toLowerCase()) ?? 0) + 1);
    return { ...request, headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => !credentialHeaders.has(name.toLowerCase()))) };
  });
  return { requests: cleaned, dropped };
}
