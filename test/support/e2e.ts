import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/client/temporal';
import { parseDocument } from 'yaml';
import { writeDemoSpec } from '../../src/infra/release-files/demo-spec';
import { queryStatus } from '../../src/client/release-handle';
import type { ReleaseStatus } from '../../src/domain/release-status';
import { requireTool } from '../../src/rig/toolchain';
import { meridianBin } from './cli';
import { eventually } from './eventually';
import { theRig } from './rig';

export const rig = theRig();
const exampleSpec = resolve(__dirname, '..', '..', 'examples', 'release.yaml');
const workDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-'));

export interface SpecShape {
  /** Keep the example's staging region (and so its load test). */
  staging?: boolean;
  /** Keep the example's bake analysis. */
  analysis?: boolean;
  /** Keep the example's traffic section: the release drains, ramps and restores regions in the rig's PowerDNS. */
  traffic?: boolean;
}

/**
 * A copy of the example release under `version`, with `edit` applied to its YAML (e.g. no approval
 * gate). Relative paths still point at the example's chart and checks. Unless asked, the copy has
 * no staging region, no bake analysis and no traffic steering: tests about other things stay quick and
 * to the point.
 */
export function specFor(
  version: string,
  edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined,
  shape: SpecShape = {},
): string {
  const file = writeDemoSpec(exampleSpec, version, workDir);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (!shape.staging) {
    const regions = doc.getIn(['spec', 'regions']) as { items: { get: (key: string) => unknown }[] };
    const index = regions.items.findIndex((r) => r.get('role') === 'staging');
    if (index >= 0) doc.deleteIn(['spec', 'regions', index]);
  }
  if (!shape.analysis) doc.deleteIn(['spec', 'validation', 'analysis']);
  if (!shape.traffic) doc.deleteIn(['spec', 'traffic']);
  edit(doc);
  writeFileSync(file, doc.toString());
  return file;
}

/** The workflow id of the example app's release at `version`, as `meridian start` names it (release-<app>-<version>). */
export const idOf = (version: string): string => `release-shop-api-${version}`;

/**
 * A specFor edit keeping only the named regions: the others leave spec.regions, and spec.traffic.regions
 * too (a traffic section may only name regions of the spec).
 */
export function keepRegions(doc: ReturnType<typeof parseDocument>, names: readonly string[]): void {
  const regions = doc.getIn(['spec', 'regions']) as { items: { get: (key: string) => unknown }[] };
  for (let i = regions.items.length - 1; i >= 0; i--) {
    const name = String(regions.items[i].get('name'));
    if (names.includes(name)) continue;
    doc.deleteIn(['spec', 'regions', i]);
    if (doc.hasIn(['spec', 'traffic', 'regions', name])) doc.deleteIn(['spec', 'traffic', 'regions', name]);
  }
}

/** A specFor edit: no approval gate, so the release goes through every wave unattended. */
export const noGate = (doc: ReturnType<typeof parseDocument>): void => doc.setIn(['spec', 'rollout', 'approvals'], []);

/** The environment of a CLI or worker on the rig. */
export function rigEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: rig.layout.kubeconfig,
    TEMPORAL_ADDRESS: rig.temporal.address,
    MERIDIAN_LOG_LEVEL: 'warn',
    ...rig.clientEnv,
  };
}

/** Where e2e workers write their logs: in the rig's logs folder, so a later scan finds every one. */
export const workerLogDir = join(rig.layout.logs, 'e2e-workers');

/** A `meridian worker` process, as an operator runs it; `env` adds to the rig's environment. */
export function spawnWorker(name: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  mkdirSync(workerLogDir, { recursive: true });
  const log = openSync(join(workerLogDir, `${name}-${Date.now().toString(36)}.log`), 'a');
  return spawn(process.execPath, [meridianBin, 'worker'], {
    env: { ...rigEnv(), ...env },
    stdio: ['ignore', log, log],
  });
}

export async function stopWorker(worker: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill(signal);
  await exited;
}

/** A client of the rig's Temporal, connected as the CLI connects (mTLS, API key and codec in the production profile). */
export async function temporalClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const { client, close } = await connectClient(rigEnv());
  return { client, close };
}

/** Polls the merged release status until `ready` holds. */
export async function statusWhen(
  client: Client,
  releaseId: string,
  ready: (s: ReleaseStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<ReleaseStatus> {
  return eventually(
    async (saw) => {
      const status = saw(await queryStatus(client, releaseId));
      return ready(status) ? status : undefined;
    },
    what,
    timeoutMs,
    250,
  );
}

/** What each region's cluster runs: image and generation of the app's Deployment (undefined: none). */
export async function deployedImages(): Promise<
  Record<string, { image?: string; generation?: number; version?: string }>
> {
  const out: Record<string, { image?: string; generation?: number; version?: string }> = {};
  for (const region of rig.regions) {
    try {
      const d = await rig
        .kube(region.context)
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: region.deployment, namespace: region.namespace });
      out[region.name] = {
        image: d.spec?.template.spec?.containers[0].image,
        generation: d.metadata?.generation,
        version: d.spec?.template.metadata?.labels?.['app.kubernetes.io/version'],
      };
    } catch {
      out[region.name] = {};
    }
  }
  return out;
}

/** The version a region's demo service reports serving. */
export async function servedVersion(port: number): Promise<string | null> {
  const body = (await (await fetch(`http://127.0.0.1:${port}/version`)).json()) as { version: string | null };
  return body.version;
}

/** Runs the `temporal` CLI against the rig's server: its stdout, or a rejection carrying its stderr. */
export async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    requireTool('temporal'),
    [...args, '--address', rig.temporal.address, '--namespace', rig.temporal.namespace],
    { env: rigEnv() },
  );
  return stdout;
}
