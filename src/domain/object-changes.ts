import { stringify } from 'yaml';
import { unifiedDiff } from './text-diff';

/** What a diff needs to know of a Kubernetes object: its kind and where it lives. */
export interface ManifestObject {
  /** e.g. apps/v1. */
  apiVersion?: string;
  /** e.g. Deployment. */
  kind?: string;
  /** Name and namespace; everything else in it is compared as content. */
  metadata?: { name?: string; namespace?: string };
}

/** How one object differs between two sides. */
export type ChangeKind =
  /** Only on the new side: it would be created. */
  | 'added'
  /** Only on the old side. */
  | 'removed'
  /** On both sides, with different content. */
  | 'changed'
  /** On both sides, the same once noise is removed. */
  | 'unchanged';

/** One object's change, as `meridian diff` reports it. */
export interface ObjectChange {
  /** `Kind namespace/name` (`Kind name` for cluster-scoped objects). */
  object: string;
  /** Added, removed, changed or unchanged. */
  change: ChangeKind;
  /** Unified diff of the object's YAML; '' when unchanged. */
  diff: string;
}

/** `Deployment us-west/shop-api`, or `Namespace us-west` for an object without a namespace. */
export function objectName(o: ManifestObject): string {
  const ns = o.metadata?.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ''}${o.metadata?.name}`;
}

/**
 * Metadata the API server keeps for itself: it changes on every write (or differs between a live object
 * and a dry run of the same apply), so showing it would bury the changes a person made.
 */
const serverMetadata = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation'];

/** Left behind by client-side `kubectl apply`: a copy of the whole object, which repeats every change. */
const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The object as plain data without what the server keeps for itself (the fields above, `status`, and
 * kubectl's last-applied annotation), keys sorted as `kubectl get -o yaml` prints them, so that the
 * live object and a dry run of the apply differ only where the content does.
 */
export function withoutServerFields(o: object): Record<string, unknown> {
  // Through JSON: client objects carry Dates and undefined fields that the wire form does not.
  const copy = JSON.parse(JSON.stringify(o)) as Record<string, unknown> & { metadata?: Record<string, unknown> };
  delete copy.status;
  if (copy.metadata) {
    for (const field of serverMetadata) delete copy.metadata[field];
    const annotations = copy.metadata.annotations as Record<string, string> | undefined;
    if (annotations) {
      delete annotations[lastAppliedAnnotation];
      if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
    }
  }
  return sortKeys(copy) as Record<string, unknown>;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** What a diff shows for a Secret's value: never the value, only whether it changed. */
export const redacted = {
  /** The value is the same on both sides, or there is only one side. */
  same: '***',
  /** The old side of a value that changes. */
  before: '*** (before)',
  /** The new side of a value that changes. */
  after: '*** (after)',
} as const;

/** Whether `o` is a core Secret, whose `data` and `stringData` are credentials. */
function isSecret(o: unknown): o is { data?: unknown; stringData?: unknown } {
  const object = o as ManifestObject | undefined;
  return object?.kind === 'Secret' && (object.apiVersion === 'v1' || object.apiVersion === undefined);
}

/** A Secret's values by key as the API server stores them: `data` decoded from base64, `stringData` over it. */
function secretValues(o: { data?: unknown; stringData?: unknown }): Map<string, string> {
  const values = new Map<string, string>();
  const entries = (field: unknown) =>
    field !== null && typeof field === 'object' && !Array.isArray(field) ? Object.entries(field) : [];
  for (const [key, value] of entries(o.data)) {
    let bytes: string;
    try {
      bytes = atob(String(value));
    } catch {
      bytes = `undecodable:${String(value)}`;
    }
    values.set(key, bytes);
  }
  const encoder = new TextEncoder();
  for (const [key, value] of entries(o.stringData)) values.set(key, binaryString(encoder.encode(String(value))));
  return values;
}

/** Bytes as one character each, as atob gives them; in chunks, since a Secret's value may be 1 MiB. */
function binaryString(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return out;
}

/** `o` with each value of its `data` and `stringData` replaced by what `shown` says for its key. */
function withValuesReplaced<T extends object>(o: T, shown: (key: string) => string): T {
  const copy = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
  for (const field of ['data', 'stringData']) {
    const values = copy[field];
    if (values === undefined || values === null) continue;
    if (typeof values !== 'object' || Array.isArray(values)) {
      copy[field] = redacted.same;
      continue;
    }
    const replaced = Object.create(null) as Record<string, string>;
    for (const key of Object.keys(values)) replaced[key] = shown(key);
    copy[field] = { ...replaced };
  }
  return copy as T;
}

/**
 * The two sides of one object as a diff may show them: when either is a Secret, every value of its
 * `data` and `stringData` is replaced by `***`, or by `*** (before)` and `*** (after)` where the value
 * differs between the sides (compared as the API server stores it, so `stringData` on one side and
 * `data` on the other are the same value when their bytes are). Keys stay, so a diff shows which key
 * is added, removed or changed, never a value. Anything else is returned as it is.
 */
export function redactSecretPair<T extends object>(
  before: T | undefined,
  after: T | undefined,
): [T | undefined, T | undefined] {
  if (!isSecret(before) && !isSecret(after)) return [before, after];
  const old = isSecret(before) ? secretValues(before) : new Map<string, string>();
  const now = isSecret(after) ? secretValues(after) : new Map<string, string>();
  const shown = (side: 'before' | 'after') => (key: string) =>
    old.has(key) && now.has(key) && old.get(key) !== now.get(key) ? redacted[side] : redacted.same;
  return [before && withValuesReplaced(before, shown('before')), after && withValuesReplaced(after, shown('after'))];
}

/**
 * Two lists of objects, paired as pairObjects pairs them, with every Secret's values redacted as
 * redactSecretPair does; each list keeps its order.
 */
export function redactSecretLists<T extends ManifestObject>(before: readonly T[], after: readonly T[]): [T[], T[]] {
  const shown = new Map<T, T>();
  for (const pair of pairObjects(before, after)) {
    const [b, a] = redactSecretPair(pair.before, pair.after);
    if (pair.before && b) shown.set(pair.before, b);
    if (pair.after && a) shown.set(pair.after, a);
  }
  return [before.map((o) => shown.get(o) ?? o), after.map((o) => shown.get(o) ?? o)];
}

/** The YAML a person compares: the object without server noise. */
export function comparableYaml(o: object): string {
  return stringify(withoutServerFields(o));
}

/**
 * Classifies and diffs one object given its YAML on each side (undefined: not there). The labels name
 * the sides on the diff's `---` and `+++` lines.
 */
export function compareObject(
  object: string,
  before: string | undefined,
  after: string | undefined,
  labels: { from: string; to: string },
): ObjectChange {
  const diff = unifiedDiff(before ?? '', after ?? '', { fromLabel: labels.from, toLabel: labels.to });
  const change: ChangeKind =
    before === undefined ? 'added' : after === undefined ? 'removed' : diff === '' ? 'unchanged' : 'changed';
  return { object, change, diff };
}

/**
 * Pairs two lists of objects by kind and name, ignoring namespace (two regions render the same objects
 * into different namespaces): in the order of `before`, then what only `after` has.
 */
export function pairObjects<T extends ManifestObject>(
  before: readonly T[],
  after: readonly T[],
): { before?: T; after?: T }[] {
  const key = (o: ManifestObject) => `${o.apiVersion?.split('/').slice(0, -1).join('/')}|${o.kind}|${o.metadata?.name}`;
  const remaining = new Map(after.map((o) => [key(o), o]));
  const pairs: { before?: T; after?: T }[] = before.map((b) => {
    const a = remaining.get(key(b));
    remaining.delete(key(b));
    return { before: b, after: a };
  });
  for (const a of remaining.values()) pairs.push({ after: a });
  return pairs;
}
