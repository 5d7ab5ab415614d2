/**
 * Server-side apply of one region's manifests (the example's first region, rendered with its chart):
 * Meridian's `serverSideApply` against `kubectl apply --server-side` of the same manifests to the same
 * API server, taking turns. kubectl's figure includes its process start.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import { serverSideApply } from '../infra/kubernetes/server-side-apply';
import { renderManifests } from '../infra/render/render-manifests';
import { loadRelease, packReleaseTemplate } from '../infra/release-files/release-file';
import { findTool } from '../rig/toolchain';
import { figure, median, type SectionResult } from './figures';

/** What was measured. */
export interface ApplyComparison {
  /** The region whose manifests were applied. */
  region: string;
  /** Objects applied each turn. */
  objects: number;
  /** Turns each way. */
  rounds: number;
  /** Meridian's apply, each turn. */
  oursMs: number[];
  /** kubectl apply --server-side, each turn (its process start included). */
  kubectlMs: number[];
  oursMedianMs: number;
  kubectlMedianMs: number;
  /** oursMedianMs / kubectlMedianMs. */
  ratio: number;
}

/** Where and how often. */
export interface ApplyOptions {
  /** The kubeconfig holding the example's contexts (the rig's). */
  kubeconfig: string;
  /** Turns each way. Full 15, quick 2. */
  rounds: number;
}

const exampleFile = resolve(__dirname, '..', '..', 'examples', 'release.yaml');

/** Renders the example's first region and applies it both ways, taking turns. */
export async function compareApplyWithKubectl(options: ApplyOptions): Promise<ApplyComparison> {
  const example = loadRelease(exampleFile);
  const region = example.spec.spec.regions[0];
  const { objects } = await renderManifests(findTool('helm') ?? 'helm', {
    release: {
      releaseId: 'bench',
      app: example.spec.metadata.app,
      version: example.spec.metadata.version,
      image: example.spec.spec.image,
    },
    region,
    template: packReleaseTemplate(example),
    values: example.spec.spec.template.values,
  });
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-apply-'));
  try {
    const file = join(dir, 'manifests.yaml');
    writeFileSync(file, objects.map((o) => `---\n${stringify(o)}`).join(''));
    const kc = kubeConfigForContext(region.cluster.context, options.kubeconfig);
    const kubectl = findTool('kubectl') ?? 'kubectl';
    const oursMs: number[] = [];
    const kubectlMs: number[] = [];
    for (let i = 0; i < options.rounds; i++) {
      let t = performance.now();
      await serverSideApply(kc, objects);
      oursMs.push(performance.now() - t);
      t = performance.now();
      execFileSync(
        kubectl,
        [
          '--kubeconfig',
          options.kubeconfig,
          '--context',
          region.cluster.context,
          'apply',
          '--server-side',
          '--force-conflicts',
          '--field-manager',
          'meridian',
          '-f',
          file,
        ],
        { stdio: 'ignore' },
      );
      kubectlMs.push(performance.now() - t);
    }
    const oursMedianMs = median(oursMs);
    const kubectlMedianMs = median(kubectlMs);
    return {
      region: region.name,
      objects: objects.length,
      rounds: options.rounds,
      oursMs,
      kubectlMs,
      oursMedianMs,
      kubectlMedianMs,
      ratio: oursMedianMs / kubectlMedianMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The section's line and figures. */
export function describeApplyComparison(c: ApplyComparison): SectionResult {
  return {
    text:
      `apply of ${c.objects} objects (${c.region}), ${c.rounds} rounds each, alternating: Meridian median ${c.oursMedianMs.toFixed(1)} ms, ` +
      `kubectl apply --server-side median ${c.kubectlMedianMs.toFixed(1)} ms (ratio ${c.ratio.toFixed(2)}x kubectl; kubectl's figure includes its process start)`,
    figures: [
      figure(`server-side apply of ${c.objects} objects`, 'ms', c.oursMedianMs, {
        name: 'kubectl apply --server-side',
        value: c.kubectlMedianMs,
      }),
    ],
  };
}
