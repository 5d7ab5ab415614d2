import { mkdirSync, rmSync } from 'node:fs';
import { type ServiceHealth, serviceHealth, startDemoServices, stopDemoServices } from './demo-services';
import { demoRegionsFromRelease } from './demo-regions';
import { type ClusterHealth, clusterHealth, startClusters, stopClusters } from './kwok-clusters';
import {
  prometheusReady,
  prometheusTargets,
  prometheusUrl,
  startPrometheus,
  stopPrometheus,
} from './prometheus-server';
import { registriesFromRelease, registryAnswers, seedSourceImage, startRegistries, stopRegistries } from './registries';
import {
  type RigProfile,
  currentProfile,
  productionClientEnv,
  productionHealth,
  recordProfile,
  startProductionTemporal,
  stopProductionTemporal,
} from './production-profile';
import type { RigConfig, RigLayout } from './rig-config';
import { rigCredentialsDir } from './rig-credentials';
import {
  type TemporalEndpoints,
  startTemporal,
  stopTemporal,
  temporalAnswers,
  temporalEndpoints,
  uiAnswers,
} from './temporal-dev-server';

/** What `meridian dev status` reports. */
export interface RigStatus {
  /** Whether every component runs and answers. */
  healthy: boolean;
  temporal: TemporalEndpoints & {
    up: boolean;
    uiUp: boolean;
    /** Which Temporal runs: the dev server, or the production profile's cluster on PostgreSQL. */
    profile: RigProfile;
    /** Production profile: whether PostgreSQL and the codec server answer. */
    postgresUp?: boolean;
    codecServerUp?: boolean;
    /** What a client exports to reach this Temporal (empty for the dev server's defaults). */
    clientEnv: Record<string, string>;
  };
  clusters: (ClusterHealth & { wantedNodes: number })[];
  services: ServiceHealth[];
  /** The source registry and the regions' registries, and whether each answers. */
  registries: { host: string; usedBy: string[]; up: boolean }[];
  prometheus: {
    /** Base URL of its API and UI. */
    url: string;
    /** Whether /-/ready answers. */
    up: boolean;
    /** Scrape targets (one per demo service) that answered their last scrape. */
    targetsUp: number;
    targets: number;
  };
  kubeconfig: string;
  dir: string;
}

/**
 * Brings the rig up: Temporal (the dev server, or with the production profile the cluster on PostgreSQL;
 * switching profiles stops the other one), the KWOK clusters, the demo services (which follow the
 * clusters), then Prometheus (which scrapes the services). Each step keeps what already runs, so `up`
 * is idempotent.
 */
export async function rigUp(
  config: RigConfig,
  layout: RigLayout,
  report: (line: string) => void,
  profile: RigProfile = 'dev',
): Promise<RigStatus> {
  mkdirSync(layout.logs, { recursive: true });
  if (profile === 'production') {
    if (await stopTemporal(layout)) report('Temporal dev server stopped (switching to the production profile)');
    report(
      'starting Temporal as production runs it: PostgreSQL, the Temporal server, the Web UI server, the codec server',
    );
    await startProductionTemporal(config, layout, report);
  } else {
    await stopProductionTemporal(layout, (line) => report(`${line} (switching to the dev profile)`));
    report('starting the Temporal dev server');
    const temporal = await startTemporal(config, layout);
    report(
      temporal.started ? `Temporal dev server started (pid ${temporal.pid})` : 'Temporal dev server already running',
    );
  }
  recordProfile(layout, profile);
  const registries = await startRegistries(layout, registriesFromRelease(config.release));
  if (registries.started.length) report(`registries started on ${registries.started.join(', ')}`);
  if (registries.kept.length) report(`registries already running on ${registries.kept.join(', ')}`);
  const seeded = await seedSourceImage(config.release);
  report(
    `${seeded.pushed ? 'pushed' : 'source has'} ${seeded.image} (${seeded.digest.slice(0, 19)}, linux/amd64 and linux/arm64)`,
  );
  const clusters = await startClusters(config, layout, report);
  if (clusters.kept.length) report(`clusters already running: ${clusters.kept.join(', ')}`);
  const services = await startDemoServices(config, layout);
  report(
    services.started ? `demo services started for ${services.regions.length} regions` : 'demo services already running',
  );
  const prometheus = await startPrometheus(config, layout, services.regions);
  report(prometheus.started ? `Prometheus started (pid ${prometheus.pid})` : 'Prometheus already running');
  return rigStatus(config, layout);
}

/** Stops every rig process; with `purge`, also deletes the clusters and the Temporal database. */
export async function rigDown(layout: RigLayout, purge: boolean, report: (line: string) => void): Promise<void> {
  if (await stopPrometheus(layout)) report('Prometheus stopped');
  if (await stopDemoServices(layout)) report('demo services stopped');
  const registries = await stopRegistries(layout);
  if (registries.length) report(`registries stopped on ${registries.join(', ')}`);
  for (const name of await stopClusters(layout, purge)) report(`cluster ${name} ${purge ? 'deleted' : 'stopped'}`);
  if (await stopTemporal(layout)) report('Temporal dev server stopped');
  await stopProductionTemporal(layout, report);
  if (purge) {
    rmSync(layout.dir, { recursive: true, force: true });
    report(`removed ${layout.dir}`);
  }
}

export async function rigStatus(config: RigConfig, layout: RigLayout): Promise<RigStatus> {
  const endpoints = temporalEndpoints(config);
  const profile = currentProfile(layout);
  const temporal: Omit<RigStatus['temporal'], keyof TemporalEndpoints | 'profile'> =
    profile === 'production'
      ? await productionHealth(config, layout).then((h) => ({
          up: h.temporal,
          uiUp: h.ui,
          postgresUp: h.postgres,
          codecServerUp: h.codecServer,
          clientEnv: productionClientEnv(layout, { dir: rigCredentialsDir(layout.dir) }),
        }))
      : await Promise.all([temporalAnswers(endpoints), uiAnswers(endpoints)]).then(([up, uiUp]) => ({
          up,
          uiUp,
          clientEnv: {},
        }));
  const { up, uiUp } = temporal;
  const clusters = await Promise.all(
    config.clusters.map(async (c) => ({
      ...(await clusterHealth(layout.kubeconfig, c.context)),
      wantedNodes: c.nodes,
    })),
  );
  const services = await Promise.all(demoRegionsFromRelease(config.release).map(serviceHealth));
  const registries = await Promise.all(
    registriesFromRelease(config.release).map(async (r) => ({
      host: r.host,
      usedBy: r.usedBy,
      up: await registryAnswers(r.host),
    })),
  );
  const url = prometheusUrl(config);
  const [promUp, targets] = await Promise.all([prometheusReady(url), prometheusTargets(url)]);
  const prometheus = { url, up: promUp, targetsUp: targets.up, targets: targets.total };
  const healthy =
    up &&
    temporal.postgresUp !== false &&
    temporal.codecServerUp !== false &&
    uiUp &&
    promUp &&
    clusters.every((c) => c.reachable && c.readyNodes >= c.wantedNodes) &&
    services.every((s) => s.up) &&
    registries.every((r) => r.up);
  return {
    healthy,
    temporal: { ...endpoints, ...temporal, profile },
    clusters,
    services,
    registries,
    prometheus,
    kubeconfig: layout.kubeconfig,
    dir: layout.dir,
  };
}
