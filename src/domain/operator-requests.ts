import { quoteExcerpt } from './excerpt';
import { describeValue } from './release-input';

/**
 * The payloads of operator signals and updates, read as hostile: the CLI sends well-formed ones, the
 * `temporal` CLI and other clients send whatever they are given. Pure: the release and region workflows
 * read every payload here before acting on it. A payload is a plain JSON object with only the fields
 * its message takes, each of its type, strings one line and bounded; anything else is refused with a
 * sentence naming the field and the expected form.
 */

/** Longest reason an operator may give (characters). */
export const maxReasonChars = 1024;
/** Longest `by` (who asks) an operator may give (characters). */
export const maxByChars = 256;
/** Largest region an add-region may carry, as JSON (characters). */
export const maxRegionJsonChars = 64 * 1024;
/** Deepest nesting of a region an add-region may carry. */
const maxRegionDepth = 16;

/** The messages an operator sends a release, by wire name, and the fields each takes. */
export const operatorMessageFields = {
  pause: ['by', 'reason'],
  resume: ['by', 'reason'],
  approve: ['by', 'reason', 'gate'],
  abort: ['by', 'reason'],
  'skip-region': ['region', 'by', 'reason'],
  'retry-region': ['region', 'by', 'reason'],
  'move-region': ['region', 'toWave', 'by', 'reason'],
  'add-region': ['region', 'wave', 'by', 'reason'],
} as const;

/** Wire name of an operator signal or update. */
export type OperatorMessage = keyof typeof operatorMessageFields;

/** A payload read: the request with only its known fields, or why it was refused. */
export type ReadRequest = { ok: true; request: Record<string, unknown> } | { ok: false; refused: string };

const examples: Record<OperatorMessage, string> = {
  pause: '{"by":"alice","reason":"..."}',
  resume: '{"by":"alice"}',
  approve: '{"gate":"after-canary","by":"alice"}',
  abort: '{"by":"alice","reason":"..."}',
  'skip-region': '{"region":"eu-west","by":"alice","reason":"..."}',
  'retry-region': '{"region":"eu-west","by":"alice","reason":"..."}',
  'move-region': '{"region":"sa-east","toWave":5,"by":"alice","reason":"..."}',
  'add-region': '{"region":{...as in spec.regions},"wave":4,"by":"alice","reason":"..."}',
};

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const gateName = /^(after-canary|after-wave-[1-9]\d{0,5}|accept-wave-[1-9]\d{0,5})$/;
// C0 and C1 controls (newlines, escapes that repaint a terminal), and the bidirectional overrides.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The payload of operator message `message` checked, or why it is refused. `optional`: a signal may
 * come with no payload at all (`temporal workflow signal --name resume`), read as an empty request.
 */
export function readOperatorRequest(message: OperatorMessage, payload: unknown, optional = false): ReadRequest {
  const refuse = (why: string): ReadRequest => ({ ok: false, refused: `${message}: ${why}` });
  if (payload === undefined || payload === null) {
    return optional
      ? { ok: true, request: {} }
      : refuse(`expected an object such as ${examples[message]}, got ${describeValue(payload)}`);
  }
  if (!isPlainObject(payload))
    return refuse(`expected an object such as ${examples[message]}, got ${describeValue(payload)}`);
  const fields: readonly string[] = operatorMessageFields[message];
  const keys = Object.keys(payload);
  const unknown = keys.filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    const named = unknown
      .slice(0, 3)
      .map((k) => quoteExcerpt(k, 40))
      .join(', ');
    return refuse(
      `unknown field${unknown.length > 1 ? 's' : ''} ${named}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''} (${message} takes ${fields.join(', ')})`,
    );
  }
  const request: Record<string, unknown> = {};
  for (const key of fields) {
    const value = (payload as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const problem = fieldProblem(message, key, value);
    if (problem) return refuse(`${key}: ${problem}`);
    request[key] = value;
  }
  if (fields.includes('region') && request.region === undefined)
    return refuse(`region: give the region, as in ${examples[message]}`);
  if (message === 'move-region' && request.toWave === undefined)
    return refuse(`toWave: give the later wave (1-based) to move ${request.region} to`);
  return { ok: true, request };
}

function fieldProblem(message: OperatorMessage, key: string, value: unknown): string | undefined {
  switch (key) {
    case 'by':
      return textProblem(value, maxByChars, 'who asks, such as alice@laptop');
    case 'reason':
      return textProblem(value, maxReasonChars, 'why, in one line');
    case 'gate':
      if (typeof value !== 'string' || !gateName.test(value))
        return `expected a gate such as after-canary, after-wave-2 or accept-wave-3, got ${describeValue(value)}`;
      return undefined;
    case 'toWave':
    case 'wave':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100_000)
        return `expected a wave number (1-based), got ${describeValue(value)}`;
      return undefined;
    case 'region':
      if (message !== 'add-region') {
        if (typeof value !== 'string' || !dnsLabel.test(value))
          return `expected a region name such as eu-west, got ${describeValue(value)}`;
        return undefined;
      }
      return regionObjectProblem(value);
  }
  return undefined;
}

function textProblem(value: unknown, max: number, what: string): string | undefined {
  if (typeof value !== 'string') return `expected text (${what}), got ${describeValue(value)}`;
  if (value.length > max) return `at most ${max} characters, got ${value.length}: shorten it`;
  const control = controlCharacters.exec(value);
  if (control) {
    const code = control[0].codePointAt(0)!.toString(16).padStart(4, '0');
    return `one line of printable text, got U+${code.toUpperCase()} at character ${control.index + 1} in ${quoteExcerpt(value)}`;
  }
  return undefined;
}

/** A region for add-region: a plain JSON object of bounded size and depth, with no prototype keys (the fields are checked by planAmendment). */
function regionObjectProblem(value: unknown): string | undefined {
  if (!isPlainObject(value))
    return `expected the region as in spec.regions of the spec file (meridian add-region sends it), got ${describeValue(value)}`;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return 'expected a JSON object';
  }
  if (json.length > maxRegionJsonChars)
    return `at most ${maxRegionJsonChars / 1024} KiB as JSON, got ${Math.ceil(json.length / 1024)} KiB`;
  const visit = (node: unknown, path: string, depth: number): string | undefined => {
    if (depth > maxRegionDepth) return `nested deeper than ${maxRegionDepth} levels at ${path}`;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = visit(node[i], `${path}[${i}]`, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    if (typeof node !== 'object' || node === null) return undefined;
    for (const key of Object.keys(node)) {
      if (forbiddenKeys.has(key)) return `the key ${quoteExcerpt(key)} at ${path} is not a field of a region`;
      const found = visit(
        (node as Record<string, unknown>)[key],
        `${path}.${key.length > 40 ? `${key.slice(0, 40)}…` : key}`,
        depth + 1,
      );
      if (found) return found;
    }
    return undefined;
  };
  return visit(value, 'region', 0);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  // By tag, not prototype: payloads are decoded inside the workflow sandbox, with its own Object.
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Object]';
}

/** The sender identity Temporal reports, as a status records it: one line, at most maxByChars. */
export function boundedIdentity(identity: string | undefined): string | undefined {
  if (!identity) return undefined;
  const line = identity.replace(new RegExp(controlCharacters.source, 'g'), '?');
  return line.length > maxByChars ? `${line.slice(0, maxByChars - 1)}…` : line;
}
