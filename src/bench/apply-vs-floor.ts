/**
 * Server-side apply of one region's manifests (the example's first region, rendered with its chart),
 * three ways to the same API server, taking turns: Meridian's `serverSideApply` as a deploy calls it
 * (a fresh client from the kubeconfig each time), the floor (the same PATCH requests prepared in advance
 * and sent bare on one kept-alive connection) and `kubectl apply --server-side`, whose figure includes
 * its process start.
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
import { prepareBareApply } from './bare-apply';
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
  /** The same PATCH requests sent bare, each turn. */
  floorMs: number[];
  /** kubectl apply --server-side, each turn (its process start included). */
  kubectlMs: number[];
  oursMedianMs: number;
  floorMedianMs: number;
  kubectlMedianMs: number;
  /** oursMedianMs / floorMedianMs. */
  ratio: number;
  /** oursMedianMs / kubectlMedianMs. */
  kubectlRatio: number;
}

/** Where and how often. */
export interface ApplyOptions {
  /** The kubeconfig holding the example's contexts (the rig's). */
  kubeconfig: string;
  /** Turns each way. Full 15, quick 2. */
  rounds: number;
}

const exampleFile = resolve(__dirname, '..', '..', 'examples', 'release.yaml');

/** Renders the example's first region and applies it three ways, taking turns. */
export async function compareApplyWithFloor(options: ApplyOptions): Promise<ApplyComparison> {
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
    const bare = await prepareBareApply(kubeConfigForContext(region.cluster.context, options.kubeconfig), objects);
    const kubectl = findTool('kubectl') ?? 'kubectl';
    const oursMs: number[] = [];
    const floorMs: number[] = [];
    const kubectlMs: number[] = [];
    try {
      // One untimed turn each way first, so neither pays for the first connection or a cold server path.
      await bare.send();
      await serverSideApply(kubeConfigForContext(region.cluster.context, options.kubeconfig), objects);
      const kubectlArgs = [
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
      ];
      const ways: { turns: number[]; apply: () => Promise<unknown> }[] = [
        {
          turns: oursMs,
          apply: () => serverSideApply(kubeConfigForContext(region.cluster.context, options.kubeconfig), objects),
        },
        { turns: floorMs, apply: () => bare.send() },
        { turns: kubectlMs, apply: async () => execFileSync(kubectl, kubectlArgs, { stdio: 'ignore' }) },
      ];
      // Each round starts with a different way, so none always follows kubectl's process.
      for (let i = 0; i < options.rounds; i++) {
        for (let k = 0; k < ways.length; k++) {
          const way = ways[(i + k) % ways.length];
          const t = performance.now();
          await way.apply();
          way.turns.push(performance.now() - t);
        }
      }
    } finally {
      bare.close();
    }
    const oursMedianMs = median(oursMs);
    const floorMedianMs = median(floorMs);
    const kubectlMedianMs = median(kubectlMs);
    return {
      region: region.name,
      objects: objects.length,
      rounds: options.rounds,
      oursMs,
      floorMs,
      kubectlMs,
      oursMedianMs,
      floorMedianMs,
      kubectlMedianMs,
      ratio: oursMedianMs / floorMedianMs,
      kubectlRatio: oursMedianMs / kubectlMedianMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The section's line and figures. */
export function describeApplyComparison(c: ApplyComparison): SectionResult {
  return {
    text:
      `apply of ${c.objects} objects (${c.region}), ${c.rounds} rounds each way, taking turns: Meridian median ${c.oursMedianMs.toFixed(1)} ms, ` +
      `the same PATCH requests sent bare on one kept-alive connection ${c.floorMedianMs.toFixed(1)} ms (${c.ratio.toFixed(2)}x the floor), ` +
      `kubectl apply --server-side ${c.kubectlMedianMs.toFixed(1)} ms (${c.kubectlRatio.toFixed(2)}x kubectl, whose figure includes its process start)`,
    figures: [
      figure(`server-side apply of ${c.objects} objects`, 'ms', c.oursMedianMs, {
        name: 'the same PATCH requests sent bare',
        value: c.floorMedianMs,
      }),
      figure(`server-side apply of ${c.objects} objects, against kubectl`, 'ms', c.oursMedianMs, {
        name: 'kubectl apply --server-side',
        value: c.kubectlMedianMs,
      }),
    ],
  };
}
