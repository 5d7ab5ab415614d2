/**
 * Process entry of the rig's demo services: one HTTP server per region, each following what its
 * region's cluster runs. Started detached by `meridian dev up` with the path of its JSON config.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { kubeConfigForContext } from '../activities/kubernetes/kube-config';
import { createDemoService } from './demo-service';
import type { DemoServicesConfig } from './demo-services';
import { RegionFollower } from './region-follower';

async function main(configFile: string): Promise<void> {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as DemoServicesConfig;
  const servers: Server[] = [];
  const followers: RegionFollower[] = [];
  for (const region of config.regions) {
    const follower = new RegionFollower(region, kubeConfigForContext(region.context, config.kubeconfig));
    follower.start();
    followers.push(follower);
    const server = createDemoService({ region, rolledOut: () => follower.fresh(), versions: config.versions });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(region.port, '127.0.0.1', () => resolve());
    });
    servers.push(server);
    process.stdout.write(`${JSON.stringify({ msg: 'demo service listening', region: region.name, port: region.port })}\n`);
  }
  const shutdown = () => {
    followers.forEach((f) => f.stop());
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
