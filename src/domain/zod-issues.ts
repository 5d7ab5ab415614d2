import type { z } from 'zod';
import { quoteExcerpt } from './excerpt';

/**
 * Turns zod's issues into lines a person can act on: the field's full path, what was expected, what was
 * found, and the fix. Parse with `{ reportInput: true }` so that the found value can be shown: only an
 * excerpt of it, and nothing of a whole document (a file named by mistake, say /proc/self/environ, is
 * read as one string, which must not be printed).
 */

/** Formats one issue path as `spec.regions[3].traits.traffic`. */
export function formatIssuePath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && key.length <= 80 && /^[A-Za-z_$][\w$]*$/.test(key))
      out += out ? `.${key}` : key;
    else out += `[${quoteExcerpt(String(key))}]`;
  }
  return out || '(document)';
}

/** Every issue of a zod error as one `path: message` line each. */
export function formatZodIssues(error: z.ZodError, root = '', schema?: z.ZodType): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      return issue.keys.map(
        (key) => `${formatIssuePath(root, [...issue.path, key])}: ${unknownFieldMessage(shortKey(key), known)}`,
      );
    }
    const [path, settled] = settle(issue.path, issue);
    return [`${formatIssuePath(root, path)}: ${describeIssue(settled, path.length === 0)}`];
  });
}

/** Whether every branch of a union failed on its type or value at the union itself: then the union says what it expects. */
function simpleUnion(issue: z.core.$ZodIssueInvalidUnion): boolean {
  return issue.errors
    .map((branch) => branch.find((i) => i.path.length === 0))
    .every((b) => b && (b.code === 'invalid_value' || b.code === 'invalid_type'));
}

/** A union that failed deeper in one branch is reported at that branch's deepest issue, with the full path. */
function settle(path: readonly PropertyKey[], issue: z.core.$ZodIssue): [PropertyKey[], z.core.$ZodIssue] {
  if (issue.code === 'invalid_union' && issue.errors.length > 0 && !simpleUnion(issue)) {
    const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest) return settle([...path, ...deepest.path], deepest);
  }
  return [[...path], issue];
}

function describeIssue(issue: z.core.$ZodIssue, wholeDocument = false): string {
  // The whole document read as one value (not a mapping) is named by its type, never quoted.
  const input =
    wholeDocument && typeof (issue as { input?: unknown }).input === 'string'
      ? undefined
      : (issue as { input?: unknown }).input;
  const found =
    wholeDocument && input === undefined && (issue as { input?: unknown }).input !== undefined
      ? ', got text (the file is not a YAML mapping)'
      : undefined;
  switch (issue.code) {
    case 'invalid_value':
      return `expected ${issue.values.map(show).join(' | ')}, got ${show(input)}`;
    case 'invalid_type': {
      // A schema's own message (e.g. the accepted duration forms) says more than zod's default.
      const own = issue.message.startsWith('Invalid input') ? undefined : issue.message;
      if (found) return `${own ?? `expected ${article(issue.expected)}`}${found}`;
      if (input === undefined) return `missing: add this field (${own ?? article(issue.expected)})`;
      return `${own ?? `expected ${article(issue.expected)}`}, got ${show(input)}`;
    }
    case 'invalid_union': {
      // A discriminated union whose discriminator matches no option has no branches: its own message says it.
      if (issue.errors.length === 0) return excerptOf(issue.message);
      const branches = issue.errors.map((branch) => branch.find((i) => i.path.length === 0));
      if (simpleUnion(issue)) {
        const expected = branches.map((b) =>
          b!.code === 'invalid_value' ? b!.values.map(show).join(' | ') : article((b as { expected: string }).expected),
        );
        return input === undefined
          ? `missing: add this field (${expected.join(' or ')})`
          : `expected ${expected.join(' or ')}, got ${show(input)}`;
      }
      const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
      return deepest
        ? `${formatIssuePath('', deepest.path) === '(document)' ? '' : `${formatIssuePath('', deepest.path)}: `}${describeIssue(deepest)}`
        : excerptOf(issue.message);
    }
    default:
      return excerptOf(issue.message);
  }
}

/** Longest schema message a problem line keeps: a message may quote input. */
const maxMessageChars = 400;

function excerptOf(message: string): string {
  return message.length > maxMessageChars ? `${message.slice(0, maxMessageChars)}…` : message;
}

function show(value: unknown): string {
  if (typeof value === 'string') return quoteExcerpt(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** An unknown key as the error names it: a key is input too, and may be a megabyte long. */
function shortKey(key: string): string {
  return key.length > 80 ? `${key.slice(0, 80)}…` : key;
}

function article(type: string): string {
  if (type === 'object') return 'an object (key: value)';
  if (type === 'array') return 'a list';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function unknownFieldMessage(key: string, known: string[]): string {
  const close = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  if (close) return `unknown field: did you mean "${close.k}"?`;
  return known.length ? `unknown field: remove it (fields here: ${known.join(', ')})` : 'unknown field: remove it';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
};

/** The field names an object schema allows at a path, found by walking the schema. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const candidates = resolve(schema, path);
  return [...new Set(candidates.flatMap((s) => Object.keys(defOf(s).shape ?? {})))];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  // A preprocess (a transform before the schema) takes the fields of the schema it feeds.
  if (def.type === 'pipe' && def.in) return unwrap(defOf(def.in).type === 'transform' && def.out ? def.out : def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(unwrap);
  return [schema];
}

function resolve(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  let current = unwrap(schema);
  for (const key of path) {
    current = current.flatMap((s) => {
      const def = defOf(s);
      if (def.type === 'object' && typeof key === 'string' && def.shape?.[key]) return unwrap(def.shape[key]);
      if (def.type === 'array' && typeof key === 'number' && def.element) return unwrap(def.element);
      if (def.type === 'record' && def.valueType) return unwrap(def.valueType);
      return [];
    });
  }
  return current;
}
