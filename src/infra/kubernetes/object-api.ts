/**
 * The generic object client, with what an API server serves (its discovery documents) remembered
 * across clients for a few minutes, the way kubectl caches discovery. Without it every deploy asks the
 * server about each group version it applies before applying anything.
 */
import {
  type KubeConfig,
  KubernetesObjectApi,
  type V1APIResource,
  type V1APIResourceList,
} from '@kubernetes/client-node';

/** How long a group version's resource list is trusted before it is asked for again. */
export const DISCOVERY_TTL_MS = 5 * 60_000;

/** Group versions remembered, across every server; past this the oldest is forgotten. */
export const MAX_DISCOVERY_ENTRIES = 512;

const discovered = new Map<string, { list: V1APIResourceList; at: number }>();

/** An object client for `kc`'s current cluster that shares discovery with every other in the process. */
export function objectApiFor(kc: KubeConfig): SharedDiscoveryObjectApi {
  const server = kc.getCurrentCluster()?.server ?? '';
  const api = kc.makeApiClient(SharedDiscoveryObjectApi);
  api.useContext(kc, server);
  return api;
}

/**
 * What `kc`'s cluster serves as `kind` in `apiVersion` (its plural name and whether it is namespaced),
 * or undefined when it serves no such kind.
 */
export function resourceFor(kc: KubeConfig, apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
  return objectApiFor(kc).lookUp(apiVersion, kind);
}

/** Forgets every server's discovery (tests, and a process that knows its clusters changed). */
export function forgetDiscovery(): void {
  discovered.clear();
}

class SharedDiscoveryObjectApi extends KubernetesObjectApi {
  private server = '';

  useContext(kc: KubeConfig, server: string): void {
    this.setDefaultNamespace(kc);
    this.server = server;
  }

  lookUp(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  protected override async resource(
    apiVersion: string,
    kind: string,
    options?: unknown,
  ): Promise<V1APIResource | undefined> {
    const key = `${this.server}\0${apiVersion}`;
    const known = discovered.get(key);
    const fresh = known && Date.now() - known.at < DISCOVERY_TTL_MS;
    if (fresh) {
      const resource = known.list.resources.find((r) => r.kind === kind);
      if (resource) return resource;
      // A kind the remembered list lacks may be new (a CRD installed since): ask the server again.
    }
    delete this.apiVersionResourceCache[apiVersion];
    const resource = await super.resource(apiVersion, kind, options as Parameters<KubernetesObjectApi['resource']>[2]);
    const list = this.apiVersionResourceCache[apiVersion];
    if (list) {
      discovered.delete(key);
      discovered.set(key, { list, at: Date.now() });
      if (discovered.size > MAX_DISCOVERY_ENTRIES) discovered.delete(discovered.keys().next().value as string);
    }
    return resource;
  }
}
