import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors';
import { parseYaml } from '../domain/yaml-document';
import { formatZodIssues } from '../domain/zod-issues';

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
}

// Only the fields the rig needs; the release spec itself is validated by the domain schema.
const releaseShape = z.object({
  metadata: z.object({ app: z.string().min(1) }),
  spec: z.object({
    regions: z
      .array(
        z.object({
          name: z.string().min(1),
          cluster: z.object({ context: z.string().min(1), namespace: z.string().min(1) }),
          endpoint: z.url(),
        }),
      )
      .min(1),
  }),
});

/** The demo services a release needs: one per region, on the loopback port of its endpoint. */
export function demoRegionsFromRelease(file: string): DemoRegion[] {
  const parsed = releaseShape.safeParse(parseYaml(readFileSync(file, 'utf8'), file));
  if (!parsed.success) throw new InvalidInputError(`${file} cannot drive the rig's demo services`, formatZodIssues(parsed.error));
  const seen = new Map<number, string>();
  return parsed.data.spec.regions.map((region, i) => {
    const url = new URL(region.endpoint);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || !url.port) {
      throw new InvalidInputError(
        `spec.regions[${i}].endpoint: the local rig serves loopback endpoints with a port only (http://127.0.0.1:PORT), got ${region.endpoint}`,
      );
    }
    const port = Number(url.port);
    const other = seen.get(port);
    if (other) throw new InvalidInputError(`spec.regions[${i}].endpoint: port ${port} is already the endpoint of ${other}; give each region its own port`);
    seen.set(port, region.name);
    return {
      name: region.name,
      context: region.cluster.context,
      namespace: region.cluster.namespace,
      deployment: parsed.data.metadata.app,
      port,
    };
  });
}
