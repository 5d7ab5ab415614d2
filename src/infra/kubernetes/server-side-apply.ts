import { type KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';

/** The field manager Meridian applies as; fields it owns are its to change. */
export const fieldManager = 'meridian';

export interface ApplyOptions {
  /** Validate on the server without persisting anything. */
  dryRun?: boolean;
  /** Namespace for objects that name none. */
  namespace?: string;
}

/**
 * Server-side applies each object, in order, the same way `kubectl apply --server-side --force-conflicts`
 * does: idempotent, so applying the same manifests again changes nothing.
 */
export async function serverSideApply(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  options: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    const spec = {
      ...object,
      metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? options.namespace },
    };
    applied.push(
      await api.patch(
        spec,
        undefined,
        options.dryRun ? 'All' : undefined,
        fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }
  return applied;
}
