import { stringify } from 'yaml';
import { kubeConfigForContext } from '../../infra/kubernetes/kube-config';
import { quoteExcerpt } from '../../domain/excerpt';
import {
  type ChangeKind,
  compareObject,
  objectName,
  type ObjectChange,
  pairObjects,
  redactSecretLists,
} from '../../domain/object-changes';
import { unifiedDiff } from '../../domain/text-diff';
import { UsageError } from '../cli-errors';
import { previewClusterChanges } from '../cluster-changes';
import type { CommandContext } from '../command';
import { requireFile } from '../options';
import { type LoadedRelease, loadRelease } from '../../infra/release-files/release-file';
import { verifyImage } from '../../infra/registry/copy-image';
import { credentialsFromEnv } from '../../infra/registry/registry-auth';
import { manifestsYaml, regionNamed, renderRegion } from '../render-region';

/**
 * `meridian diff`: how two regions' manifests differ (--regions A,B), or what releasing would change in
 * one region's cluster (--region NAME, by server-side dry run). Informational: exit 0 whatever differs.
 * Secrets are shown with their keys and `***` for each value (`*** (before)`, `*** (after)` where it changes).
 * Commander refuses --region with --regions (the options conflict).
 */
export async function diffCommand(
  values: { file?: string; region?: string; regions?: string; json?: boolean },
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  const file = requireFile('diff', values.file);
  if (values.regions !== undefined) {
    const names = values.regions.split(',').map((n) => n.trim());
    if (names.length !== 2 || names.some((n) => n === '')) {
      throw new UsageError(
        `--regions: give two region names separated by a comma, e.g. --regions us-east-canary,us-west; got ${quoteExcerpt(values.regions)}`,
      );
    }
    return diffRegions(loadRelease(file), names as [string, string], values.json ?? false, ctx);
  }
  if (values.region !== undefined) return diffCluster(loadRelease(file), values.region, values.json ?? false, ctx);
  throw new UsageError(
    "missing --regions A,B (two regions' manifests) or --region NAME (a region's cluster against the release)",
  );
}

/** The rendered manifests of two regions, as one unified diff of what `meridian render` prints. */
async function diffRegions(
  release: LoadedRelease,
  [fromName, toName]: [string, string],
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  const from = regionNamed(release, fromName, '--regions');
  const to = regionNamed(release, toName, '--regions');
  // A Secret's values never reach the output: only which keys differ (redactSecretLists).
  const [fromObjects, toObjects] = redactSecretLists(
    await renderRegion(release, from, ctx.env),
    await renderRegion(release, to, ctx.env),
  );
  if (json) {
    const changes = pairObjects(fromObjects, toObjects).map(({ before, after }) => {
      // Each region renders into its own namespace: an object is the same one by kind and name.
      const { kind, metadata } = (before ?? after)!;
      const object = objectName({ kind, metadata: { name: metadata?.name } });
      return compareObject(object, before && stringify(before), after && stringify(after), {
        from: `${from.name} ${object}`,
        to: `${to.name} ${object}`,
      });
    });
    ctx.out(
      `${JSON.stringify({ mode: 'regions', regions: [from.name, to.name], same: changes.every((c) => c.change === 'unchanged'), changes }, null, 2)}\n`,
    );
    return 0;
  }
  const diff = unifiedDiff(manifestsYaml(fromObjects), manifestsYaml(toObjects), {
    fromLabel: from.name,
    toLabel: to.name,
  });
  ctx.out(diff || `${from.name} and ${to.name} render the same manifests\n`);
  return 0;
}

/** What releasing would change in one region's cluster: live objects against a server-side dry run. */
async function diffCluster(
  release: LoadedRelease,
  regionName: string,
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  const region = regionNamed(release, regionName, '--region');
  // The release would deploy the source's digest: compare with that, when the source can tell.
  const { digest, note } = await sourceDigest(release, ctx.env);
  const objects = await renderRegion(release, region, ctx.env, digest);
  const kubeconfig = ctx.env.KUBECONFIG;
  const kc = kubeConfigForContext(region.cluster.context, kubeconfig);
  const { namespace, context } = region.cluster;
  const preview = await previewClusterChanges(kc, objects, namespace, `cluster ${context} (region ${region.name})`);
  const { changes } = preview;
  const notes = note ? [note, ...preview.notes] : preview.notes;
  if (json) {
    ctx.out(
      `${JSON.stringify({ mode: 'cluster', region: region.name, context, namespace, changes, notes }, null, 2)}\n`,
    );
    return 0;
  }
  const out = notes.map((n) => `note: ${n}\n`);
  out.push(...changes.filter((c) => c.change !== 'unchanged').map((c) => c.diff));
  out.push(...changes.filter((c) => c.change === 'unchanged').map((c) => `unchanged: ${c.object}\n`));
  out.push(
    `${region.name}: ${summary(changes)} (server-side dry run against context ${context}; nothing was applied)\n`,
  );
  ctx.out(out.join(''));
  return 0;
}

function summary(changes: readonly ObjectChange[]): string {
  const count = (kind: ChangeKind) => changes.filter((c) => c.change === kind).length;
  return `${count('added')} new, ${count('changed')} changed, ${count('unchanged')} unchanged`;
}

/** The digest of the release's image in the source registry, or a note saying why the image is named by tag. */
async function sourceDigest(
  release: LoadedRelease,
  env: NodeJS.ProcessEnv,
): Promise<{ digest?: string; note?: string }> {
  const { name, tag, source } = release.spec.spec.image;
  const byTag = `the image is named by tag: ${name}:${tag}`;
  try {
    const found = await verifyImage({
      ref: { registry: source, repository: name, tag },
      credentials: credentialsFromEnv(env),
    });
    return found.present && found.digest ? { digest: found.digest } : { note: `${byTag} is not in ${source} yet` };
  } catch (err) {
    return { note: `${byTag}; ${source} could not tell its digest (${(err as Error).message})` };
  }
}
