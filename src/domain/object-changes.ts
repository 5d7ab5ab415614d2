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
  const change: ChangeKind = before === undefined ? 'added' : after === undefined ? 'removed' : diff === '' ? 'unchanged' : 'changed';
  return { object, change, diff };
}

/**
 * Pairs two lists of objects by kind and name, ignoring namespace (two regions render the same objects
 * into different namespaces): in the order of `before`, then what only `after` has.
 */
export function pairObjects<T extends ManifestObject>(before: readonly T[], after: readonly T[]): { before?: T; after?: T }[] {
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
