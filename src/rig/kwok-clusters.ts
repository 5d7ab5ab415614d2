import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import { assessRollout } from '../domain/deployment-rollout';
import { isAlive, waitFor } from './processes';
import { parse, stringify } from 'yaml';
import { UnreachableError } from '../domain/errors';
import { addStagesToCluster, controllerPredatesStages, kwokControllerPatch, writeKwokStages } from './kwok-stages';
import type { RigConfig, RigLayout } from './rig-config';
import { findTool, requireTool } from './toolchain';

const run = promisify(execFile);

/** kwokctl with the rig's work dir. */
async function kwokctl(layout: RigLayout, args: string[], timeoutMs = 180_000): Promise<string> {
  const binary = requireTool('kwokctl');
  try {
    const { stdout } = await run(binary, args, {
      env: { ...process.env, KWOK_WORKDIR: layout.kwokWorkdir },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new UnreachableError(
      `kwokctl ${args.join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-8).join('\n')}`,
    );
  }
}

/** The kwokctl configuration: local binaries only (nothing is downloaded) and loopback only. */
function kwokctlConfiguration(layout: RigLayout): string {
  const file = join(layout.dir, 'kwokctl.yaml');
  const options = {
    runtime: 'binary',
    bindAddress: '127.0.0.1',
    kubeVersion: kubeVersion(),
    kubeApiserverBinary: requireTool('kube-apiserver'),
    kubeControllerManagerBinary: requireTool('kube-controller-manager'),
    kubeSchedulerBinary: requireTool('kube-scheduler'),
    kwokControllerBinary: requireTool('kwok'),
    etcdBinary: requireTool('etcd'),
    kubectlBinary: findTool('kubectl') ?? 'kubectl',
    quietPull: true,
  };
  // One controller manager and one scheduler per cluster: leader election would only make a restarted
  // cluster wait for the lease of its previous run to expire before anything rolls out.
  const noLeaderElection = [{ key: 'leader-elect', value: 'false' }];
  const componentsPatches = [
    { name: 'kube-controller-manager', extraArgs: noLeaderElection },
    { name: 'kube-scheduler', extraArgs: noLeaderElection },
    // The rig's own kwok Stages (Job pods that fail on purpose), loaded besides kwok's defaults.
    kwokControllerPatch(layout),
  ];
  const doc = { kind: 'KwokctlConfiguration', apiVersion: 'config.kwok.x-k8s.io/v1alpha1', options, componentsPatches };
  mkdirSync(layout.dir, { recursive: true });
  writeFileSync(file, stringify(doc));
  return file;
}

/** The Kubernetes version the toolchain pins, so kwokctl passes flags that version understands. */
function kubeVersion(): string {
  const file = join(__dirname, '..', '..', 'toolchain', 'versions.env');
  const match = /^KUBE_VERSION=(\S+)/m.exec(readFileSync(file, 'utf8'));
  return match ? match[1] : 'v1.34.4';
}

/** kwokctl adds and removes contexts in a kubeconfig: give it one of the rig's, never ~/.kube/config. */
function kwokctlKubeconfig(layout: RigLayout): string {
  return join(layout.dir, 'kwokctl-kubeconfig.yaml');
}

function clusterKubeconfig(layout: RigLayout, name: string): string {
  return join(layout.kwokWorkdir, 'clusters', name, 'kubeconfig.yaml');
}

/** Clusters that kwokctl knows in the rig's work dir, running or stopped. */
export async function knownClusters(layout: RigLayout): Promise<string[]> {
  if (!existsSync(join(layout.kwokWorkdir, 'clusters'))) return [];
  const out = await kwokctl(layout, ['get', 'clusters']);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export interface ClusterHealth {
  context: string;
  /** Whether the API server answers. */
  reachable: boolean;
  /** Nodes reporting Ready. */
  readyNodes: number;
  /** API server URL. */
  server?: string;
  error?: string;
}

export async function clusterHealth(kubeconfigFile: string, context: string): Promise<ClusterHealth> {
  if (!existsSync(kubeconfigFile)) return { context, reachable: false, readyNodes: 0, error: 'no kubeconfig' };
  try {
    const kc = kubeConfigForContext(context, kubeconfigFile);
    const server = kc.getCurrentCluster()?.server;
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    const readyNodes = nodes.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    return { context, reachable: true, readyNodes, server };
  } catch (err) {
    return { context, reachable: false, readyNodes: 0, error: (err as Error).message.split('\n')[0] };
  }
}

/**
 * Creates (or starts again) each configured cluster, scales its simulated nodes, and writes one
 * kubeconfig whose contexts carry the names the release spec uses (meridian-americas, ...).
 * Clusters are created one after another: kwokctl picks free ports, and parallel creation can race.
 * Every cluster's kwok controller loads the rig's stages (see kwok-stages.ts): a cluster created before
 * them gets them added, and a running controller that has not loaded their current version restarts.
 */
export async function startClusters(
  config: RigConfig,
  layout: RigLayout,
  report: (line: string) => void,
): Promise<{ started: string[]; kept: string[] }> {
  const known = new Set(await knownClusters(layout));
  const started: string[] = [];
  const kept: string[] = [];
  const restarted: string[] = [];
  let configFile: string | undefined;
  mkdirSync(layout.dir, { recursive: true });
  writeKwokStages(layout);
  for (const cluster of config.clusters) {
    const name = cluster.context;
    const stagesAdded = known.has(name) && addStagesToCluster(layout, name);
    if (known.has(name) && existsSync(layout.kubeconfig) && (await clusterHealth(layout.kubeconfig, name)).reachable) {
      if (stagesAdded || controllerPredatesStages(layout, name)) {
        report(`restarting the kwok controller of ${name} to load ${layout.kwokStages}`);
        await restartKwokController(layout, name);
        restarted.push(name);
      }
      kept.push(name);
    } else {
      configFile ??= kwokctlConfiguration(layout);
      if (known.has(name)) {
        report(`starting cluster ${name}`);
        await kwokctl(layout, ['start', 'cluster', '--name', name, '--wait', '120s']);
        await restartKwokController(layout, name);
      } else {
        report(`creating cluster ${name} (kube-apiserver, etcd, controllers, kwok; about 20-40s)`);
        await kwokctl(layout, [
          'create',
          'cluster',
          '--name',
          name,
          '--config',
          configFile,
          '--kubeconfig',
          kwokctlKubeconfig(layout),
          '--wait',
          '120s',
        ]);
      }
      started.push(name);
    }
    writeMergedKubeconfig(config, layout);
    await kwokctl(layout, ['scale', 'node', '--name', name, '--replicas', String(cluster.nodes)]);
  }
  writeMergedKubeconfig(config, layout);
  for (const cluster of config.clusters) {
    const logs = join(layout.kwokWorkdir, 'clusters', cluster.context, 'logs');
    const health = await waitForNodes(layout.kubeconfig, cluster.context, cluster.nodes);
    if (health.readyNodes < cluster.nodes) {
      throw new UnreachableError(
        `cluster ${cluster.context} has ${health.readyNodes} of ${cluster.nodes} nodes ready (${health.error ?? 'still starting'}); see ${logs}`,
      );
    }
  }
  // A cluster that just started is ready only once its controllers really roll a Deployment out.
  await Promise.all(
    [...started, ...restarted].map(async (context) => {
      if (!(await deploymentRollsOut(kubeConfigForContext(context, layout.kubeconfig)))) {
        throw new UnreachableError(
          `cluster ${context} does not roll Deployments out within 60s; see ${join(layout.kwokWorkdir, 'clusters', context, 'logs')}`,
        );
      }
    }),
  );
  return { started, kept };
}

/**
 * A restarted kwok controller acts on a node's pods only once it holds the node's lease, and the lease of
 * the previous run lasts 200s: pods would stay Pending for minutes. Once the API server answers, end
 * the controller, delete the stale node leases, and let kwokctl start the controller again (kwokctl
 * starts only the components that are not running).
 */
async function restartKwokController(layout: RigLayout, name: string): Promise<void> {
  const dir = join(layout.kwokWorkdir, 'clusters', name);
  const ok = await waitFor(
    async () => (await clusterHealth(join(dir, 'kubeconfig.yaml'), `kwok-${name}`)).reachable,
    60_000,
    250,
  );
  if (!ok)
    throw new UnreachableError(`cluster ${name}: the API server did not answer within 60s; see ${join(dir, 'logs')}`);
  const pidFile = join(dir, 'pids', 'kwok-controller.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    await waitFor(async () => !isAlive(pid), 10_000, 100);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(join(dir, 'kubeconfig.yaml'));
  await kc.makeApiClient(CoordinationV1Api).deleteCollectionNamespacedLease({ namespace: 'kube-node-lease' });
  await kwokctl(layout, ['start', 'cluster', '--name', name, '--wait', '60s']);
}

/** Rolls a one-replica probe Deployment out and removes it again: proves scheduler, controllers and kwok work. */
async function deploymentRollsOut(kc: KubeConfig): Promise<boolean> {
  const apps = kc.makeApiClient(AppsV1Api);
  const name = 'meridian-rig-probe';
  const namespace = 'default';
  const probe = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'probe', image: 'rig.local/probe:1' }] },
      },
    },
  };
  await apps.deleteNamespacedDeployment({ name, namespace }).catch(() => undefined);
  await waitFor(
    async () => {
      await apps.createNamespacedDeployment({ namespace, body: probe });
      return true;
    },
    30_000,
    500,
  );
  const ok = await waitFor(
    async () => assessRollout(await apps.readNamespacedDeployment({ name, namespace })).state === 'complete',
    60_000,
    250,
  );
  await apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Foreground' }).catch(() => undefined);
  return ok;
}

async function waitForNodes(kubeconfig: string, context: string, nodes: number): Promise<ClusterHealth> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const health = await clusterHealth(kubeconfig, context);
    if (health.readyNodes >= nodes || Date.now() > deadline) return health;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops each cluster's processes; with `purge`, deletes the clusters and their data. */
export async function stopClusters(layout: RigLayout, purge: boolean): Promise<string[]> {
  const known = new Set(await knownClusters(layout));
  const stopped: string[] = [];
  for (const name of known) {
    if (purge) await kwokctl(layout, ['delete', 'cluster', '--name', name, '--kubeconfig', kwokctlKubeconfig(layout)]);
    else await kwokctl(layout, ['stop', 'cluster', '--name', name]);
    stopped.push(name);
  }
  return stopped;
}

/** Writes the rig's kubeconfig: every cluster's credentials under the context names of the config. */
function writeMergedKubeconfig(config: RigConfig, layout: RigLayout): void {
  const merged = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [] as unknown[],
    users: [] as unknown[],
    contexts: [] as unknown[],
    'current-context': config.clusters[0].context,
  };
  for (const { context } of config.clusters) {
    const file = clusterKubeconfig(layout, context);
    if (!existsSync(file)) continue;
    const own = parse(readFileSync(file, 'utf8')) as {
      clusters: { cluster: unknown }[];
      users: { user: unknown }[];
    };
    merged.clusters.push({ name: context, cluster: own.clusters[0].cluster });
    merged.users.push({ name: context, user: own.users[0].user });
    merged.contexts.push({ name: context, context: { cluster: context, user: context } });
  }
  writeFileSync(layout.kubeconfig, stringify(merged), { mode: 0o600 });
}
