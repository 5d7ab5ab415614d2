import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import type { DemoRegion } from './demo-regions';
import { type Backoff, kubeListWatchEdge, ListWatch, type ListWatchEdge } from './list-watch';

/** What a region's cluster runs right now, as seen by its demo service. */
export interface RolledOut {
  /** Ready pods per version. Empty when the app is not deployed or no pod is ready. */
  readyPods: Record<string, number>;
  /** When each version present was first seen with a ready pod (ms since epoch). */
  readySince: Record<string, number>;
  /** Why following the cluster fails, while it does (what was last seen is still served). */
  error?: string;
}

/** The version a pod runs: its `app.kubernetes.io/version` label, else the tag of its first image. */
export function podVersion(pod: V1Pod): string | undefined {
  const label = pod.metadata?.labels?.['app.kubernetes.io/version'];
  if (label) return label;
  const image = pod.spec?.containers?.[0]?.image;
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(colon + 1) : 'latest';
}

export function isReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The region's Deployment and the pods of its namespace, as two list-then-watch edges. */
export interface FollowerEdges {
  /** The region's Deployment alone (a field selector on its name). */
  deployments: ListWatchEdge<V1Deployment>;
  /** Every pod of the region's namespace; the Deployment's selector picks its own from them. */
  pods: ListWatchEdge<V1Pod>;
}

/** The edges to the region's real API server. */
export function kubeFollowerEdges(region: DemoRegion, kubeConfig: KubeConfig): FollowerEdges {
  const { namespace, deployment } = region;
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const fieldSelector = `metadata.name=${deployment}`;
  return {
    deployments: kubeListWatchEdge(
      kubeConfig,
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      () => apps.listNamespacedDeployment({ namespace, fieldSelector }),
      { fieldSelector },
    ),
    pods: kubeListWatchEdge(kubeConfig, `/api/v1/namespaces/${namespace}/pods`, () =>
      core.listNamespacedPod({ namespace }),
    ),
  };
}

/** Whether a pod carries every label of a Deployment's `matchLabels`. */
function selects(matchLabels: Record<string, string>, pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

/**
 * Follows the Deployment of one region: which versions have ready pods, and since when. Watches the
 * Deployment and its namespace's pods (list, then watch; see ListWatch), so that a request answers from
 * memory and an idle region costs nothing: a poll per region every 500 ms, and a look per request, kept a
 * 30-region rig's services busy on most of a core and slowed their answers to over a second.
 */
export class RegionFollower {
  private state: RolledOut = { readyPods: {}, readySince: {} };
  private readonly deployments: ListWatch<V1Deployment>;
  private readonly pods: ListWatch<V1Pod>;
  private readonly now: () => number;

  constructor(
    private readonly region: DemoRegion,
    edges: FollowerEdges,
    options: { now?: () => number; backoff?: Backoff } = {},
  ) {
    this.now = options.now ?? Date.now;
    const onChange = () => this.recompute();
    this.deployments = new ListWatch(edges.deployments, { onChange, backoff: options.backoff, now: this.now });
    this.pods = new ListWatch(edges.pods, { onChange, backoff: options.backoff, now: this.now });
  }

  /** What runs now, as the watches last saw it. */
  current(): RolledOut {
    return this.state;
  }

  /** Whether both watches hold the server's objects (listed, and no failure since). */
  get synced(): boolean {
    return this.deployments.synced && this.pods.synced;
  }

  start(): void {
    this.deployments.start();
    this.pods.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.deployments.stop(), this.pods.stop()]);
  }

  private recompute(): void {
    const deployment = this.deployments.items().find((d) => d.metadata?.name === this.region.deployment);
    const selector = deployment?.spec?.selector?.matchLabels;
    const readyPods: Record<string, number> = {};
    if (selector && Object.keys(selector).length > 0) {
      for (const pod of this.pods.items()) {
        const version = podVersion(pod);
        if (version && selects(selector, pod) && isReady(pod)) readyPods[version] = (readyPods[version] ?? 0) + 1;
      }
    }
    const readySince: Record<string, number> = {};
    for (const version of Object.keys(readyPods)) readySince[version] = this.state.readySince[version] ?? this.now();
    // Keep serving what was last seen while a watch fails: a blip of the API server does not change what runs.
    const error = this.deployments.error ?? this.pods.error;
    this.state = { readyPods, readySince, ...(error ? { error } : {}) };
  }
}
