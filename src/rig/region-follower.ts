import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { DemoRegion } from './demo-regions';

/** What a region's cluster runs right now, as seen by its demo service. */
export interface RolledOut {
  /** Ready pods per version. Empty when the app is not deployed or no pod is ready. */
  readyPods: Record<string, number>;
  /** When each version present was first seen with a ready pod (ms since epoch). */
  readySince: Record<string, number>;
  /** Last error talking to the cluster, if the last poll failed. */
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

/**
 * Follows the Deployment of one region: which versions have ready pods, and since when. Polls the
 * API server (a watch would be cheaper, but a poll survives API server restarts without bookkeeping).
 */
export class RegionFollower {
  private state: RolledOut = { readyPods: {}, readySince: {} };
  private polledAt = 0;
  private polling?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;

  constructor(
    private readonly region: DemoRegion,
    kubeConfig: KubeConfig,
    private readonly intervalMs = 500,
    private readonly now: () => number = Date.now,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  current(): RolledOut {
    return this.state;
  }

  /**
   * What runs now, looked up again if the last look is older than `maxAgeMs`. A request right after a
   * rollout then sees the new pods, as a Service would, instead of the state of the last poll.
   */
  async fresh(maxAgeMs = 50): Promise<RolledOut> {
    if (this.now() - this.polledAt > maxAgeMs) await this.poll();
    return this.state;
  }

  start(): void {
    const tick = async () => {
      await this.poll();
      this.timer = setTimeout(() => void tick(), this.intervalMs);
    };
    void tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** One look at the cluster; concurrent callers share it. */
  poll(): Promise<void> {
    this.polling ??= this.look().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async look(): Promise<void> {
    const started = this.now();
    try {
      const readyPods = await this.readyPodsByVersion();
      const readySince: Record<string, number> = {};
      for (const version of Object.keys(readyPods)) readySince[version] = this.state.readySince[version] ?? this.now();
      this.state = { readyPods, readySince };
      this.polledAt = started;
    } catch (err) {
      // Keep serving what was last seen: a blip of the API server does not change what runs.
      this.state = { ...this.state, error: (err as Error).message.split('\n')[0] };
    }
  }

  private async readyPodsByVersion(): Promise<Record<string, number>> {
    const { namespace, deployment } = this.region;
    let selector: Record<string, string> | undefined;
    try {
      const d = await this.apps.readNamespacedDeployment({ name: deployment, namespace });
      selector = d.spec?.selector?.matchLabels;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return {};
      throw err;
    }
    if (!selector || Object.keys(selector).length === 0) return {};
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = await this.core.listNamespacedPod({ namespace, labelSelector });
    const counts: Record<string, number> = {};
    for (const pod of pods.items) {
      const version = podVersion(pod);
      if (version && isReady(pod)) counts[version] = (counts[version] ?? 0) + 1;
    }
    return counts;
  }
}
