import { loadRelease } from '../infra/release-files/release-file';
import { InvalidInputError } from '../domain/errors';
import type { RegionSpec, RegionTraits } from '../domain/release-spec';

/** One region's demo service: where it listens and which Deployment it follows. */
export interface DemoRegion {
  /** Region name from the release. */
  name: string;
  /** Kubeconfig context of the region's cluster. */
  context: string;
  /** Namespace the region deploys to. */
  namespace: string;
  /** Deployment (the app's name) whose rolled-out version the service reports and behaves as. */
  deployment: string;
  /** Loopback port of the region's endpoint. */
  port: number;
  /** production serves users; staging never does (no synthetic users are sent to it). */
  role: RegionSpec['role'];
  /** What the region's users send: how much, in which scripts, from which devices, to which APIs. */
  traits: Pick<RegionTraits, 'traffic' | 'scripts' | 'mobileShare' | 'apis'>;
}

/** The demo services a release needs: one per region, on the loopback port of its endpoint. */
export function demoRegionsFromRelease(file: string): DemoRegion[] {
  const { spec } = loadRelease(file);
  const seen = new Map<number, string>();
  return spec.spec.regions.map((region, i) => {
    const url = new URL(region.endpoint);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || !url.port) {
      throw new InvalidInputError(
        `spec.regions[${i}].endpoint: the local rig serves loopback endpoints with a port only (http://127.0.0.1:PORT), got ${region.endpoint}`,
      );
    }
    const port = Number(url.port);
    const other = seen.get(port);
    if (other)
      throw new InvalidInputError(
        `spec.regions[${i}].endpoint: port ${port} is already the endpoint of ${other}; give each region its own port`,
      );
    seen.set(port, region.name);
    return {
      name: region.name,
      context: region.cluster.context,
      namespace: region.cluster.namespace,
      deployment: spec.metadata.app,
      port,
      role: region.role,
      traits: {
        traffic: region.traits.traffic,
        scripts: region.traits.scripts,
        mobileShare: region.traits.mobileShare,
        apis: region.traits.apis,
      },
    };
  });
}
