import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { ObjectRef } from '../../domain/release-input';
import { objectApiFor } from './object-api';
import { serverSideApply } from './server-side-apply';

/**
 * What a region ran before a release touched it, kept in the region's own cluster (a Secret in its
 * namespace, as Helm keeps its release history) rather than in workflow history: manifests may hold
 * credentials, and history must not.
 */

/** One object of the revision: its identity, and what it was before (null: it did not exist). */
export interface RevisionEntry {
  ref: ObjectRef;
  previous: KubernetesObject | null;
}

export function revisionSecretName(app: string, releaseId: string): string {
  const hash = createHash('sha256').update(releaseId).digest('hex').slice(0, 10);
  return `meridian-rev-${app}`.slice(0, 48) + `-${hash}`;
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: number; statusCode?: number; body?: unknown };
  return e?.code === 404 || e?.statusCode === 404;
}

/** An object as it should be applied again: without server-owned fields. */
export function restorable(o: KubernetesObject): KubernetesObject {
  const copy = structuredClone(o) as KubernetesObject & { status?: unknown };
  delete copy.status;
  const m = copy.metadata ?? {};
  for (const field of [
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'managedFields',
    'selfLink',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'ownerReferences',
  ] as const) {
    delete (m as Record<string, unknown>)[field];
  }
  if (m.annotations) {
    delete m.annotations['deployment.kubernetes.io/revision'];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  copy.metadata = m;
  return copy;
}

/**
 * Records what the objects are now, once per release and region: if the record exists (a retried
 * deploy), it is kept, because by then the objects may already be the new ones.
 */
export async function captureRevision(
  kc: KubeConfig,
  namespace: string,
  secretName: string,
  labels: Record<string, string>,
  refs: readonly ObjectRef[],
): Promise<{ captured: boolean; entries: number }> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    const existing = await core.readNamespacedSecret({ name: secretName, namespace });
    return { captured: false, entries: decode(existing.data?.previous).length };
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const objects = objectApiFor(kc);
  const entries: RevisionEntry[] = [];
  for (const ref of refs) {
    try {
      const current = await objects.read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
      });
      entries.push({ ref, previous: restorable(current) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      entries.push({ ref, previous: null });
    }
  }
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: secretName, namespace, labels: { 'app.kubernetes.io/managed-by': 'meridian', ...labels } },
      type: 'meridian.dev/revision',
      data: { previous: encode(entries) },
    },
  });
  return { captured: true, entries: entries.length };
}

export async function readRevision(
  kc: KubeConfig,
  namespace: string,
  secretName: string,
): Promise<RevisionEntry[] | undefined> {
  try {
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: secretName, namespace });
    return decode(secret.data?.previous);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Puts the region back as the revision recorded it: objects that existed are applied as they were,
 * objects the release created are deleted. Idempotent.
 */
export async function restoreRevision(
  kc: KubeConfig,
  entries: readonly RevisionEntry[],
): Promise<{ restored: ObjectRef[]; deleted: ObjectRef[] }> {
  const objects = objectApiFor(kc);
  const restored: ObjectRef[] = [];
  const deleted: ObjectRef[] = [];
  for (const { ref, previous } of entries) {
    if (previous) {
      await serverSideApply(kc, [previous]);
      restored.push(ref);
    } else {
      try {
        await objects.delete({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      deleted.push(ref);
    }
  }
  return { restored, deleted };
}

function encode(entries: RevisionEntry[]): string {
  return gzipSync(JSON.stringify(entries)).toString('base64');
}

function decode(data: string | undefined): RevisionEntry[] {
  if (!data) return [];
  // Secret data is base64 of the stored bytes: gzipped JSON.
  return JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as RevisionEntry[];
}
