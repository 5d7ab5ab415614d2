import { mkdirSync, rmSync } from 'node:fs';
import { type ServiceHealth, demoTraffic, servicesHealth, startDemoServices, stopDemoServices } from './demo-services';
import { demoRegionsFromRelease } from './demo-regions';
import { type ClusterHealth, clusterHealth, startClusters, stopClusters } from './kwok-clusters';
import {
  prometheusReady,
  prometheusTargets,
  prometheusUrl,
  startPrometheus,
  stopPrometheus,
} from './prometheus-server';
import {
  type PowerDnsHealth,
  powerDnsAddress,
  powerDnsApiUrl,
  powerDnsHealth,
  publishRigHostname,
  startPowerDns,
  stopPowerDns,
} from './powerdns-server';
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
import { loadRelease } from '../infra/release-files/release-file';
import { type RigTraffic, defaultRigZone, providerMismatches, rigTraffic, rigTrafficFromRelease } from './rig-traffic';
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
  /** The authoritative DNS server (PowerDNS) for the release's spec.traffic zone. */
  dns: PowerDnsHealth & {
    /** Clients it can locate (spec.traffic.clients). */
    clients: number;
  };
  kubeconfig: string;
  dir: string;
}

/** The zone the rig's DNS server holds: spec.traffic.zone, or example.test for a release without traffic. */
function rigZone(traffic: RigTraffic | undefined): string {
  return traffic?.zone ?? defaultRigZone;
}

/**
 * Brings the rig up: Temporal (the dev server, or with the production profile the cluster on PostgreSQL;
 * switching profiles stops the other one), the KWOK clusters, the demo services (which follow the
 * clusters, and also answer on the regions' traffic addresses), then at once Prometheus (which scrapes
 * the services) and PowerDNS (whose answers name the services' traffic addresses). Each step keeps what
 * already runs, so `up` is idempotent.
 *
 * PowerDNS runs for every release: without spec.traffic it holds example.test and locates no client.
 */
export async function rigUp(
  config: RigConfig,
  layout: RigLayout,
  report: (line: string) => void,
  profile: RigProfile = 'dev',
): Promise<RigStatus> {
  // Read first: a traffic section the rig cannot serve (an address off this machine) stops `up` before anything starts.
  const trafficSpec = loadRelease(config.release).spec.spec.traffic;
  const traffic = trafficSpec ? rigTraffic(trafficSpec) : undefined;
  if (traffic) {
    const rigDns = { api: powerDnsApiUrl(config), dns: powerDnsAddress(config) };
    for (const line of providerMismatches(traffic, rigDns)) report(`warning: ${line}`);
  }
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
  const zone = rigZone(traffic);
  const [prometheus, dns] = await Promise.allSettled([
    startPrometheus(config, layout, services.regions).then((p) => {
      report(p.started ? `Prometheus started (pid ${p.pid})` : 'Prometheus already running');
    }),
    startPowerDns(config, layout, { zone, clients: traffic?.clients ?? [] }).then((d) => {
      report(
        d.started
          ? `PowerDNS started (pid ${d.pid}) on 127.0.0.1:${config.dns.port}, locating ${traffic?.clients.length ?? 0} client subnets`
          : 'PowerDNS already running',
      );
      if (d.zoneCreated) report(`zone ${zone} created`);
    }),
  ]);
  for (const step of [prometheus, dns]) if (step.status === 'rejected') throw step.reason;
  if (trafficSpec) {
    // The hostname answers from the start, so the synthetic users that resolve it reach their regions.
    await publishRigHostname(config, layout, trafficSpec).then(
      (regions) =>
        report(`${trafficSpec.hostname} answers for the release's ${regions} regions (recorded drains kept)`),
      (err: Error) => report(`warning: ${trafficSpec.hostname} not published on the rig's PowerDNS: ${err.message}`),
    );
  }
  return rigStatus(config, layout);
}

/** Stops every rig process; with `purge`, also deletes the clusters and the Temporal database. */
export async function rigDown(layout: RigLayout, purge: boolean, report: (line: string) => void): Promise<void> {
  if (await stopPowerDns(layout)) report('PowerDNS stopped');
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
  const traffic = rigTrafficFromRelease(config.release);
  const [services, dns] = await Promise.all([
    servicesHealth(demoRegionsFromRelease(config.release), demoTraffic(traffic)),
    powerDnsHealth(config, layout, rigZone(traffic)),
  ]);
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
    dns.up &&
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
    dns: { ...dns, clients: traffic?.clients.length ?? 0 },
    kubeconfig: layout.kubeconfig,
    dir: layout.dir,
  };
}
