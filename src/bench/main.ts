/**
 * `npm run bench`: prints Meridian's speed and memory figures, each beside its baseline or target.
 * Needs the local rig (`meridian dev up`). Not a test: it never fails on a number.
 *
 *   1. orchestration overhead per region: a 50-region release with zero bake and no-op activities on
 *      the dev server; per region, the region workflow's wall time minus its activities' own time.
 *   2. 200 concurrent releases of 5 regions on one worker: completion and the worker's peak RSS.
 *   3. server-side apply of one region's manifests: Meridian's apply against `kubectl apply
 *      --server-side` of the same manifests, side by side.
 *   4. the load generator's request rate against wrk's on a loopback target (no rig needed).
 *   5. replication of a 200 MB multi-platform image from one registry to three at once, against `skopeo
 *      copy --all` run the same way: into empty registries, and an update sharing all but one layer per
 *      platform into registries holding the previous version (registries of its own, no rig needed).
 *   6. recovery from a SIGKILLed worker: one release's only worker killed inside each long activity
 *      (copy, deploy, rollout wait, checks, load test, bake watch, rollback), the worst time until the
 *      activity ran again on a new worker, against its heartbeat timeout and its start-to-close limit
 *      (BENCH_KILL_KINDS=checks,rollback for some kinds only).
 *   7. CLI start to exit for help, validate, plan and schema, commands loaded as they run, against every
 *      command's module loaded up front (no rig needed).
 *   8. recorded traffic parsing on long and hostile lines (a 2 MB access log line among them), against
 *      JSON.parse of the same characters (no rig needed).
 *   9. traffic steering through a private PowerDNS on spare ports: failover (health lost to answer
 *      changed) against the health check interval, and drain propagation (drain written to no answer with
 *      the region) against the TTL (BENCH_TRAFFIC_TRIALS trials, default 10; no rig needed).
 *
 * `--only overhead,concurrent,apply,load,images,kills,cli,parsing,traffic` runs the sections named, e.g. `node dist/bench/main.js --only load`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import type { MeridianActivities } from '../activities/region-activities';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import { serverSideApply } from '../infra/kubernetes/server-side-apply';
import { renderManifests } from '../infra/render/render-manifests';
import { loadRelease, packReleaseTemplate } from '../infra/release-files/release-file';
import type { ReleaseInput } from '../domain/release-input';
import { releaseSpecSchema, type ReleaseSpec } from '../domain/release-spec';
import { parseYaml } from '../domain/yaml-document';
import { defaultRigConfigFile, loadRigConfig, rigLayout } from '../rig/rig-config';
import { connectionOptions, loadTemporalConnectionConfig } from '../temporal/connection-config';
import { findTool } from '../rig/toolchain';
import { compareCliStartup, describeCliStartup } from './cli-startup';
import { benchInputParsing, describeInputParsing } from './input-parsing';
import { compareWithSkopeo, describeReplicationComparison } from './image-replication-vs-skopeo';
import { compareWithWrk, describeGeneratorComparison } from './load-generator-vs-wrk';
import { describeKillRecovery, type KillKind, killKinds, measureKillRecovery } from './kill-recovery';
import { describeTrafficFailover, measureTrafficFailover } from './traffic-failover';
import type { releaseWorkflow } from '../workflows/release-workflow';

const taskQueue = `meridian-bench-${Date.now().toString(36)}`;
const exampleFile = resolve(__dirname, '..', '..', 'examples', 'release.yaml');
const example = loadRelease(exampleFile);

/** Activities that do nothing, so a run measures orchestration alone. */
const noop: MeridianActivities = {
  async replicateImage({ registry }) {
    const blobs = { copied: 0, skipped: 0, mounted: 0, bytesCopied: 0 };
    return {
      registry,
      digest: `sha256:${'0'.repeat(64)}`,
      mediaType: '',
      platforms: [],
      how: 'copied',
      blobs,
      elapsedMs: 0,
    };
  },
  async renderRegion({ region, release }) {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: region.cluster.namespace, name: release.app };
    return { digest: 'd', objects: [d], deployments: [d], image: 'i' };
  },
  async deployRegion({ digest }) {
    return { digest, applied: [], revisionCaptured: true };
  },
  async waitForRollout() {
    return { elapsedMs: 0 };
  },
  async runIntegrationChecks({ region }) {
    return { endpoint: region.endpoint, passed: true, results: [] };
  },
  async rollbackRegion() {
    return { restored: [], deleted: [], recorded: true };
  },
  async findLoadBaseline() {
    return undefined;
  },
  async runLoadTest() {
    throw new Error('the orchestration bench runs no load test');
  },
  async watchBake({ tally }) {
    return { tally };
  },
  async steerRegion({ share, note }) {
    return { mode: share >= 1 ? 'in' : share <= 0 ? 'drained' : 'ramp', share, ...note };
  },
  async prepareSteering() {},
};

function syntheticSpec(regions: number): ReleaseSpec {
  // From the example's YAML, not its parsed spec: parsing turns durations into milliseconds, which the
  // schema would then refuse (a parsed spec does not parse again).
  const raw = parseYaml(readFileSync(exampleFile, 'utf8'), exampleFile) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const template = raw.spec.regions[1];
  raw.spec.regions = Array.from({ length: regions }, (_, i) => ({
    ...template,
    name: `region-${i}`,
    canary: i === 0,
    cluster: { context: 'bench', namespace: `ns-${i}` },
    traits: { ...template.traits },
  }));
  raw.spec.rollout = {
    ...raw.spec.rollout,
    approvals: [],
    maxParallel: 10,
    canarySoak: '0s',
    timeToSmoke: { ...raw.spec.rollout.timeToSmoke, window: '180d', floor: '0s', ceiling: '12h' },
  };
  raw.spec.validation = { integration: { suite: 'x' } };
  const spec = releaseSpecSchema.parse(raw);
  return spec;
}

function input(releaseId: string, spec: ReleaseSpec): ReleaseInput {
  return {
    releaseId,
    spec,
    specHash: 'bench',
    template: { kind: 'helm', releaseName: spec.metadata.app, files: '', sha256: 'bench' },
    checks: {
      checks: [
        {
          name: 'health',
          kind: 'http',
          request: { method: 'GET', path: '/healthz', headers: {} },
          expect: { status: 200 },
        },
      ],
    },
    overrides: { bakeMs: 0, canarySoakMs: 0 },
    requestedBy: 'bench',
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Per region: the region workflow's wall time minus the time its activities ran. */
async function regionOverheads(client: Client, releaseId: string, regions: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const name of regions) {
    const history = await client.workflow.getHandle(`${releaseId}.${name}.1`).fetchHistory();
    const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
      Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
    const events = history.events ?? [];
    const started = new Map<string, number>();
    let activityMs = 0;
    for (const e of events) {
      if (e.activityTaskStartedEventAttributes)
        started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e.eventTime));
      const done = e.activityTaskCompletedEventAttributes;
      if (done) activityMs += ms(e.eventTime) - (started.get(String(done.scheduledEventId)) ?? ms(e.eventTime));
    }
    out.push(ms(events[events.length - 1].eventTime) - ms(events[0].eventTime) - activityMs);
  }
  return out;
}

async function benchOverhead(client: Client): Promise<void> {
  const releaseId = `bench-overhead-${Date.now().toString(36)}`;
  const spec = syntheticSpec(50);
  const started = Date.now();
  await client.workflow.execute<typeof releaseWorkflow>('releaseWorkflow', {
    workflowId: releaseId,
    taskQueue,
    args: [input(releaseId, spec)],
  });
  const wall = Date.now() - started;
  const overheads = await regionOverheads(
    client,
    releaseId,
    spec.spec.regions.map((r) => r.name),
  );
  const amortized = wall / overheads.length;
  console.log(
    `1. orchestration overhead, 50 regions, zero bake, no-op activities, maxParallel 10: the whole release took ${(wall / 1000).toFixed(1)} s, ${amortized.toFixed(0)} ms per region (${(amortized / 250).toFixed(2)}x the 250 ms target); each region's own latency (its workflow's wall time minus its activities' run time) median ${median(overheads).toFixed(0)} ms, p90 ${pct(overheads, 90).toFixed(0)} ms (${(median(overheads) / 250).toFixed(2)}x the target)`,
  );
}

async function benchConcurrent(client: Client, releases: number): Promise<void> {
  const spec = syntheticSpec(5);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 200);
  const started = Date.now();
  const stamp = Date.now().toString(36);
  const handles = await Promise.all(
    Array.from({ length: releases }, (_, i) => {
      const id = `bench-concurrent-${stamp}-${i}`;
      return client.workflow.start<typeof releaseWorkflow>('releaseWorkflow', {
        workflowId: id,
        taskQueue,
        args: [input(id, spec)],
      });
    }),
  );
  const results = await Promise.allSettled(handles.map((h) => h.result()));
  clearInterval(sampler);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  console.log(
    `2. ${releases} concurrent releases of 5 regions on one worker: ${ok}/${releases} succeeded in ${((Date.now() - started) / 1000).toFixed(1)} s; peak RSS of the worker process ${(peakRss / 2 ** 20).toFixed(0)} MiB (target: under 1024 MiB; ${(peakRss / 2 ** 30).toFixed(2)}x of target)`,
  );
}

async function benchApply(): Promise<void> {
  const layout = rigLayout();
  const region = example.spec.spec.regions[0];
  const helm = findTool('helm') ?? 'helm';
  const { objects } = await renderManifests(helm, {
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
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-'));
  const file = join(dir, 'manifests.yaml');
  writeFileSync(file, objects.map((o) => `---\n${stringify(o)}`).join(''));
  const kc = kubeConfigForContext(region.cluster.context, layout.kubeconfig);
  const rounds = 15;
  const ours: number[] = [];
  const kubectl: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await serverSideApply(kc, objects);
    ours.push(performance.now() - t);
    t = performance.now();
    execFileSync(
      'kubectl',
      [
        '--kubeconfig',
        layout.kubeconfig,
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
    kubectl.push(performance.now() - t);
  }
  console.log(
    `3. apply of ${objects.length} objects (${region.name}), ${rounds} rounds each, alternating: Meridian median ${median(ours).toFixed(1)} ms, kubectl apply --server-side median ${median(kubectl).toFixed(1)} ms (ratio ${(median(ours) / median(kubectl)).toFixed(2)}x kubectl; kubectl's figure includes its process start)`,
  );
}

async function benchLoadGenerator(): Promise<void> {
  const comparison = await compareWithWrk({
    connections: Number(process.env.BENCH_LOAD_CONNECTIONS ?? 10),
    durationMs: 10_000,
    rounds: 3,
  });
  console.log(`4. ${describeGeneratorComparison(comparison)}`);
}

async function benchImages(): Promise<void> {
  const comparison = await compareWithSkopeo({
    totalBytes: 200e6,
    layers: 6,
    sharedLayers: 2,
    platforms: ['linux/amd64', 'linux/arm64'],
    registries: 3,
    rounds: Number(process.env.BENCH_IMAGE_ROUNDS ?? 8),
  });
  console.log(`5. ${describeReplicationComparison(comparison)}`);
}

async function benchKills(): Promise<void> {
  const config = loadRigConfig(defaultRigConfigFile());
  const layout = rigLayout();
  const env = {
    ...process.env,
    KUBECONFIG: layout.kubeconfig,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.temporal.port}`,
    MERIDIAN_LOG_LEVEL: 'warn',
  };
  const temporal = loadTemporalConnectionConfig(env, {
    address: `127.0.0.1:${config.temporal.port}`,
    namespace: config.temporal.namespace,
  });
  const connection = await Connection.connect(connectionOptions(temporal));
  const kinds = process.env.BENCH_KILL_KINDS ? (process.env.BENCH_KILL_KINDS.split(',') as KillKind[]) : killKinds;
  const unknown = kinds.filter((k) => !(killKinds as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_KILL_KINDS takes kinds separated by commas, from ${killKinds.join(', ')} (unknown: ${unknown.join(', ')})`,
    );
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    const results = await measureKillRecovery({ client, env, kinds, logDir: join(layout.logs, 'bench-workers') });
    console.log(`6. ${describeKillRecovery(results)}`);
  } finally {
    await connection.close();
  }
}

const sections = ['overhead', 'concurrent', 'apply', 'load', 'images', 'kills', 'cli', 'parsing', 'traffic'] as const;
type Section = (typeof sections)[number];

/** The sections `--only a,b` names, or all of them. */
function chosenSections(argv: string[]): Set<Section> {
  const at = argv.indexOf('--only');
  if (at < 0) return new Set(sections);
  const names = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(sections as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(
      `--only takes sections separated by commas, from ${sections.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  }
  return new Set(names as Section[]);
}

async function main(): Promise<void> {
  const only = chosenSections(process.argv.slice(2));
  if (only.has('overhead') || only.has('concurrent')) {
    const config = loadRigConfig(defaultRigConfigFile());
    // The rig's server unless TEMPORAL_* or a temporal.toml profile names another.
    const temporal = loadTemporalConnectionConfig(process.env, {
      address: `127.0.0.1:${config.temporal.port}`,
      namespace: config.temporal.namespace,
    });
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const connection = await Connection.connect(connectionOptions(temporal));
    const client = new Client({ connection, namespace: temporal.namespace });
    const native = await NativeConnection.connect(connectionOptions(temporal));
    const worker = await Worker.create({
      connection: native,
      namespace: temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      interceptors: { workflowModules: [require.resolve('../workflows/sender-identity')] },
      activities: noop,
    });
    const releases = Number(process.env.BENCH_RELEASES ?? 200);
    await worker.runUntil(async () => {
      if (only.has('overhead')) await benchOverhead(client);
      if (only.has('concurrent') && releases > 0) await benchConcurrent(client, releases);
    });
    await native.close();
    await connection.close();
  }
  if (only.has('apply')) await benchApply();
  if (only.has('load')) await benchLoadGenerator();
  if (only.has('images')) await benchImages();
  if (only.has('kills')) await benchKills();
  if (only.has('cli')) console.log(`7. ${describeCliStartup(compareCliStartup())}`);
  if (only.has('parsing')) console.log(`8. ${describeInputParsing(benchInputParsing())}`);
  if (only.has('traffic')) {
    const trials = Number(process.env.BENCH_TRAFFIC_TRIALS ?? 10);
    console.log(`9. ${describeTrafficFailover(await measureTrafficFailover({ trials }))}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
