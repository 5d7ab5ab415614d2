import { type KubeConfig, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { objectApiFor } from '../infra/kubernetes/object-api';
import { serverSideApply } from '../infra/kubernetes/server-side-apply';
import { InvalidInputError, UnreachableError } from '../domain/errors';
import {
  comparableYaml,
  compareObject,
  objectName,
  type ObjectChange,
  redactSecretPair,
} from '../domain/object-changes';

/** What releasing a region's manifests would change in its cluster. */
export interface ClusterChanges {
  /** One entry per object, in apply order (a missing namespace first). */
  changes: ObjectChange[];
  /** What the diffs cannot show, e.g. objects the API server could not dry-run. */
  notes: string[];
}

/**
 * What applying `objects` would change in the cluster: each object as it runs now (a GET) against the
 * API server's answer to a server-side-apply dry run of it, both without server noise. The dry run goes
 * through the same defaulting, validation and admission as a real apply, so the diff shows what would
 * run, not what the template says; nothing is persisted. A Secret's values are shown as `***` (and
 * whether they change), never as they are. `cluster` names the cluster in errors.
 */
export async function previewClusterChanges(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  namespace: string,
  cluster: string,
): Promise<ClusterChanges> {
  const api = objectApiFor(kc);
  const changes: ObjectChange[] = [];
  const notes: string[] = [];

  // A deploy creates the namespace first; a dry run cannot, and refuses objects that would live in it.
  const namespaceObject: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  const namespaceMissing = (await readLive(api, namespaceObject, cluster)) === undefined;
  if (namespaceMissing) {
    changes.push(compare(namespaceObject, undefined, await dryRunApply(kc, namespaceObject, namespace, cluster)));
    notes.push(
      `namespace ${namespace} does not exist yet: releasing creates it; the objects in it are shown as rendered, without the API server's defaults or validation`,
    );
  }
  for (const object of objects) {
    if (namespaceMissing && object.metadata?.namespace === namespace) {
      changes.push(compare(object, undefined, object));
      continue;
    }
    const live = await readLive(api, object, cluster);
    changes.push(compare(object, live, await dryRunApply(kc, object, namespace, cluster)));
  }
  return { changes, notes };
}

/** One object's change; a Secret's values never reach the diff (redactSecretPair), on either side. */
function compare(
  object: KubernetesObject,
  live: KubernetesObject | undefined,
  rendered: KubernetesObject,
): ObjectChange {
  const name = objectName(object);
  const [before, after] = redactSecretPair(live, rendered);
  return compareObject(name, before && comparableYaml(before), comparableYaml(after!), {
    from: `live ${name}${live ? '' : ' (new object)'}`,
    to: `after release ${name}`,
  });
}

/** The object as it is in the cluster now; undefined when there is none. */
async function readLive(
  api: KubernetesObjectApi,
  object: KubernetesObject,
  cluster: string,
): Promise<KubernetesObject | undefined> {
  const header = {
    apiVersion: object.apiVersion!,
    kind: object.kind!,
    metadata: { name: object.metadata!.name!, namespace: object.metadata?.namespace },
  };
  try {
    return await api.read(header);
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw clusterError(err, `read ${objectName(object)}`, cluster);
  }
}

/** The object as the API server would store it after Meridian's apply. */
async function dryRunApply(
  kc: KubeConfig,
  object: KubernetesObject,
  namespace: string,
  cluster: string,
): Promise<KubernetesObject> {
  try {
    const [after] = await serverSideApply(kc, [object], { dryRun: true, namespace });
    return after;
  } catch (err) {
    const code = statusCode(err);
    if (code !== undefined && code >= 400 && code < 500) {
      throw new InvalidInputError(
        `${cluster} rejected ${objectName(object)} in a dry run (${code}): ${serverMessage(err)}\n  fix the template or the values that produce it; nothing was applied`,
      );
    }
    throw clusterError(err, `dry-run ${objectName(object)}`, cluster);
  }
}

/** Errors a person can act on: a cluster that does not answer (exit 3), or refuses what was asked (exit 2). */
function clusterError(err: unknown, doing: string, cluster: string): unknown {
  const code = statusCode(err);
  if (code !== undefined && code >= 500)
    return new UnreachableError(`${cluster} failed to ${doing} (${code}): ${serverMessage(err)}`);
  if (code !== undefined)
    return new InvalidInputError(
      `${cluster} refused to ${doing} (${code}): ${serverMessage(err)}\n  check the kubeconfig context's credentials and permissions`,
    );
  const message = (err as Error | undefined)?.message ?? String(err);
  if (/^Unrecognized API version and kind/.test(message)) {
    return new InvalidInputError(
      `${cluster} cannot ${doing}: ${message}: install the resource's CRD first, or fix apiVersion and kind`,
    );
  }
  if (isConnectionFailure(err))
    return new UnreachableError(
      `cannot reach ${cluster}: ${message}\n  is the cluster up (for the local rig: meridian dev up), and does KUBECONFIG point at it?`,
    );
  return err;
}

/** The HTTP status of an API error (the client's ApiException); undefined for anything else. */
function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && (err as { body?: unknown }).body !== undefined ? code : undefined;
}

/** The `message` of the Status the API server answered with. */
function serverMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  let status = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.trim().slice(0, 500);
    }
  }
  const message = (status as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : JSON.stringify(status).slice(0, 500);
}

/** The request never got an answer: refused, reset, timed out, or a name that does not resolve. */
function isConnectionFailure(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; type?: string } | undefined;
  return (
    e?.name === 'FetchError' ||
    e?.name === 'AbortError' ||
    (typeof e?.code === 'string' && /^(E[A-Z]+|UND_ERR_\w+)$/.test(e.code))
  );
}
