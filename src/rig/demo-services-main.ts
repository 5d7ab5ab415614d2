/**
 * Process entry of the rig's demo services: one HTTP server per region, each following what its
 * region's cluster runs, and each region's synthetic users sending requests to it. Started detached by
 * `meridian dev up` with the path of its JSON config. All regions share this one process, so the
 * process metrics every region's /metrics reports are this process's.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import { demoServiceAddresses, demoServiceListener, hostPort, listenOn } from './demo-service';
import { type DemoServicesConfig, regionTraffic } from './demo-services';
import { kubeFollowerEdges, RegionFollower } from './region-follower';
import { versionsInRegion } from './rig-config';
import { DnsUsers } from './user-routes';
import { UserTraffic } from './user-traffic';

async function main(configFile: string): Promise<void> {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as DemoServicesConfig;
  const servers: Server[] = [];
  const followers: RegionFollower[] = [];
  const users: UserTraffic[] = [];
  for (const region of config.regions) {
    const kubeConfig = kubeConfigForContext(region.context, config.kubeconfig);
    const follower = new RegionFollower(region, kubeFollowerEdges(region, kubeConfig));
    follower.start();
    followers.push(follower);
    const rps = config.userTrafficRps[region.name] ?? 0;
    // Users behind the release's hostname ask the rig's DNS server where to go; the others call the endpoint.
    const route = config.userRoutes?.[region.name];
    const traffic = new UserTraffic({
      baseUrl: `http://127.0.0.1:${region.port}`,
      region,
      rps,
      ...(route ? { dns: new DnsUsers({ route }) } : {}),
    });
    users.push(traffic);
    const listener = demoServiceListener({
      region,
      rolledOut: () => follower.current(),
      versions: versionsInRegion(config.versions, region.name),
      userTraffic: traffic,
    });
    // The endpoint, then the region's traffic addresses (spec.traffic): one service answering on each.
    const addresses = demoServiceAddresses(region, regionTraffic(config.traffic, region.name));
    servers.push(
      ...(await listenOn(listener, addresses).catch((err: Error) => {
        throw new Error(`region ${region.name}: ${err.message}`);
      })),
    );
    process.stdout.write(
      `${JSON.stringify({
        msg: 'demo service listening',
        region: region.name,
        port: region.port,
        ...(addresses.length > 1 ? { traffic: addresses.slice(1).map((a) => hostPort(a.host, a.port)) } : {}),
        userRps: rps,
        ...(route
          ? { users: `resolve ${route.hostname} as ${route.population.name} (${route.population.subnet})` }
          : {}),
      })}\n`,
    );
  }
  // Users arrive once every service listens.
  users.forEach((u) => u.start());
  const shutdown = () => {
    users.forEach((u) => u.stop());
    followers.forEach((f) => void f.stop());
    servers.forEach((s) => s.close());
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main(process.argv[2]).catch((err: Error) => {
  process.stderr.write(`demo services failed: ${err.message}\n`);
  process.exit(1);
});
