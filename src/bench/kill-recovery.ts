import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { parseDocument, parse as parseYaml, stringify } from 'yaml';
import { writeDemoSpec } from '../infra/release-files/demo-spec';
import { releaseInputOf } from '../client/commands/start';
import { loadRelease } from '../infra/release-files/release-file';
import { pushDemoImage } from '../rig/demo-image';
import { releaseWorkflowType } from '../workflows/definitions';

/**
 * How long a release stalls when its worker is SIGKILLed inside each long activity, on the local rig:
 * one release (staging, the canary, Seoul) on a task queue of its own, its only worker killed once
 * inside each chosen kind of activity and replaced at once; the time from the kill until the activity's
 * next attempt runs on the new worker. Steps that finish in a fraction of a second on the rig are
 * stretched so that the kill lands inside them: the worker reaches the clusters and the staging endpoint
 * through proxies that hold back what it sends, and the image is big enough to take seconds to copy.
 */

/** The long activities, in the order one release runs them. */
export const killKinds = ['copy', 'deploy', 'rollout', 'checks', 'load', 'bake', 'rollback'] as const;
/** One kind of long activity the worker is killed in. */
export type KillKind = (typeof killKinds)[number];

/** One kill and what it cost. */
export interface KillRecovery {
  kind: KillKind;
  /** The activity type killed, e.g. deployRegion. */
  activity: string;
  /** The workflow that ran it (the release, or a region). */
  workflowId: string;
  /** The attempt the kill cut short. */
  killedAttempt: number;
  /** From the SIGKILL until the next attempt ran on the new worker. */
  recoveredMs: number;
  /** The activity's heartbeat timeout, as scheduled (0: none). */
  heartbeatTimeoutMs: number;
  /** The activity's start-to-close limit, as scheduled: what a kill cost without a heartbeat timeout. */
  startToCloseMs: number;
}

export interface KillRecoveryOptions {
  /** The kinds to kill in (default all); the release ends after the last. */
  kinds?: readonly KillKind[];
  /** A client of the rig's Temporal. */
  client: Client;
  /** The workers' environment: the rig's Temporal and kubeconfig (KUBECONFIG, TEMPORAL_*). */
  env: NodeJS.ProcessEnv;
  /** Where the workers' logs go. */
  logDir: string;
  /** The example spec whose regions the rig serves. */
  exampleSpec?: string;
  /** A line per kill as it is measured. */
  log?: (line: string) => void;
}

const meridianBin = resolve(__dirname, '..', '..', 'bin', 'meridian');
const defaultExample = resolve(__dirname, '..', '..', 'examples', 'release.yaml');

/** Where each kind runs, and which proxy holds back what the worker sends so that the kill lands inside it. */
const plan: Record<KillKind, { activity: string; region?: string; slow?: 'kube' | 'endpoint' }> = {
  copy: { activity: 'replicateImage' },
  deploy: { activity: 'deployRegion', region: 'staging', slow: 'kube' },
  rollout: { activity: 'waitForRollout', region: 'staging', slow: 'kube' },
  checks: { activity: 'runIntegrationChecks', region: 'staging', slow: 'endpoint' },
  load: { activity: 'runLoadTest', region: 'staging' },
  bake: { activity: 'watchBake', region: 'us-east-canary' },
  rollback: { activity: 'rollbackRegion', region: 'ap-northeast-2', slow: 'kube' },
};
/** How long each proxy holds back each chunk the worker sends while it is slowing a step. */
const slowChunkMs = { kube: 250, endpoint: 1_000 };

/** A TCP proxy that delays what its clients send by `delayMs` (in order); answers pass at once. */
class DelayingProxy {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly sockets: Set<Socket>,
    private readonly delay: { ms: number },
  ) {}

  /** How long each chunk a client sends is held back. */
  set delayMs(ms: number) {
    this.delay.ms = ms;
  }

  static async start(targetPort: number): Promise<DelayingProxy> {
    const sockets = new Set<Socket>();
    const delay = { ms: 0 };
    const server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      let chain = Promise.resolve();
      client.on('data', (chunk) => {
        const due = Date.now() + delay.ms;
        chain = chain
          .then(() => new Promise<void>((r) => setTimeout(r, due - Date.now())))
          .then(() => void (upstream.destroyed || upstream.write(chunk)));
      });
      upstream.pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      for (const s of [client, upstream]) {
        s.on('error', end);
        s.on('close', end);
      }
      client.on('end', () => void chain.then(() => upstream.end()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new DelayingProxy(server, (server.address() as { port: number }).port, sockets, delay);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** A kubeconfig like `file`, with every cluster reached through a delaying proxy. */
async function proxiedKubeconfig(file: string, dir: string): Promise<{ file: string; proxies: DelayingProxy[] }> {
  const config = parseYaml(readFileSync(file, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  const proxies: DelayingProxy[] = [];
  for (const { cluster } of config.clusters) {
    const url = new URL(cluster.server);
    const proxy = await DelayingProxy.start(Number(url.port));
    proxies.push(proxy);
    // The API server's certificate names 127.0.0.1, whatever the port: TLS passes through the proxy.
    url.port = String(proxy.port);
    cluster.server = url.toString().replace(/\/$/, '');
  }
  const out = join(dir, 'kubeconfig');
  writeFileSync(out, stringify(config));
  return { file: out, proxies };
}

/** The workflow's pending activities of `type` (`pending` undefined: none), or undefined if it could not be asked (not started yet, server restarting). */
async function pendingActivity(client: Client, workflowId: string, type: string) {
  try {
    const described = await client.workflow.getHandle(workflowId).describe();
    return { pending: (described.raw.pendingActivities ?? []).find((a) => a.activityType?.name === type) };
  } catch {
    return undefined;
  }
}

/** When the last attempt of an activity that is no longer pending started, and which attempt it was; undefined if history does not say yet. */
async function lastStart(
  client: Client,
  workflowId: string,
  activityId: string | null | undefined,
): Promise<{ at: number; attempt: number } | undefined> {
  try {
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
    const started = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled?.eventId),
    );
    if (!started) return undefined;
    return {
      at: ms(started.eventTime as { seconds?: unknown; nanos?: number }),
      attempt: started.activityTaskStartedEventAttributes!.attempt ?? 1,
    };
  } catch {
    return undefined;
  }
}

const ms = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  d ? Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : 0;

/** Runs one release, killing its worker inside each chosen kind of activity; see the module comment. */
export async function measureKillRecovery(options: KillRecoveryOptions): Promise<KillRecovery[]> {
  const kinds = killKinds.filter((k) => (options.kinds ?? killKinds).includes(k));
  const { client, log = () => undefined } = options;
  const stamp = Date.now().toString(36);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-kill-'));
  const taskQueue = `meridian-kill-${stamp}`;
  const kube = await proxiedKubeconfig(options.env.KUBECONFIG ?? join(process.env.HOME ?? '', '.kube', 'config'), dir);
  const example = parseDocument(readFileSync(options.exampleSpec ?? defaultExample, 'utf8'));
  const stagingEndpoint = new URL(
    String(
      (example.toJS() as { spec: { regions: { name: string; endpoint: string }[] } }).spec.regions.find(
        (r) => r.name === 'staging',
      )!.endpoint,
    ),
  );
  const endpoint = await DelayingProxy.start(Number(stagingEndpoint.port));
  const slow = (what: 'kube' | 'endpoint' | undefined) => {
    for (const p of kube.proxies) p.delayMs = what === 'kube' ? slowChunkMs.kube : 0;
    endpoint.delayMs = what === 'endpoint' ? slowChunkMs.endpoint : 0;
  };
  let worker: ChildProcess | undefined;
  let handle: WorkflowHandle | undefined;
  try {
    // Version 2.4.6-seoul mangles Hangul only in Seoul: staging and the canary pass, Seoul fails its checks and is rolled back.
    const version = `2.4.6-seoul.kill-${stamp}`;
    const file = writeDemoSpec(options.exampleSpec ?? defaultExample, version, dir);
    const doc = parseDocument(readFileSync(file, 'utf8'));
    // Every release has a canary; Seoul only when its rollback is measured.
    const keep = ['staging', 'us-east-canary', ...(kinds.includes('rollback') ? ['ap-northeast-2'] : [])];
    const regions = doc.getIn(['spec', 'regions']) as {
      items: { get: (key: string) => unknown; set: (key: string, value: unknown) => void }[];
    };
    regions.items = regions.items.filter((r) => keep.includes(String(r.get('name'))));
    // The kill test measures activities, not DNS steering: the traffic section (which names every region) goes.
    doc.deleteIn(['spec', 'traffic']);
    regions.items.find((r) => r.get('name') === 'staging')!.set('endpoint', `http://127.0.0.1:${endpoint.port}`);
    doc.setIn(['spec', 'rollout', 'approvals'], []);
    // Checks without latency limits, so that a slowed endpoint still passes them; the Korean search is what Seoul fails.
    const suite = join(dir, 'checks.yaml');
    writeFileSync(
      suite,
      stringify({
        checks: [
          { name: 'health', request: { method: 'GET', path: '/healthz' }, expect: { status: 200 } },
          {
            name: 'search in Korean',
            request: { method: 'GET', path: '/search?q=결제' },
            expect: { status: 200, json: { '$.query': '결제' } },
          },
          { name: 'catalog', request: { method: 'GET', path: '/catalog?lang=hi' }, expect: { status: 200 } },
          { name: 'health again', request: { method: 'GET', path: '/healthz' }, expect: { status: 200 } },
        ],
      }),
    );
    doc.setIn(['spec', 'validation', 'integration', 'suite'], suite);
    // A short load test judged on absolute limits only: earlier releases' figures on a shared machine vary several-fold.
    doc.setIn(['spec', 'validation', 'load', 'duration'], '4s');
    doc.setIn(['spec', 'validation', 'load', 'rate'], 20);
    doc.deleteIn(['spec', 'validation', 'load', 'thresholds', 'regression']);
    doc.deleteIn(['spec', 'validation', 'load', 'resources']);
    if (kinds.includes('bake')) {
      doc.setIn(['spec', 'validation', 'analysis', 'interval'], '2s');
      doc.setIn(['spec', 'validation', 'analysis', 'minSamples'], 1);
      doc.deleteIn(['spec', 'validation', 'analysis', 'minRequests']);
    } else {
      doc.deleteIn(['spec', 'validation', 'analysis']);
    }
    if (kinds.includes('copy')) {
      // Big enough that copying takes seconds: 2 platforms, 30 + 30 MB layers, fresh for this run.
      const tag = `kill-${stamp}`;
      const source = String(doc.getIn(['spec', 'image', 'source']));
      await pushDemoImage({
        registry: source,
        repository: String(doc.getIn(['spec', 'image', 'name'])),
        tag,
        layerBytes: [30e6, 30e6],
        sharedLayers: 0,
        seed: `kill ${stamp}`,
      });
      doc.setIn(['spec', 'image', 'tag'], tag);
    }
    writeFileSync(file, doc.toString());

    mkdirSync(options.logDir, { recursive: true });
    const env = { ...options.env, KUBECONFIG: kube.file };
    const spawnWorker = (n: number): ChildProcess => {
      const out = openSync(join(options.logDir, `kill-recovery-${stamp}-${n}.log`), 'a');
      return spawn(process.execPath, [meridianBin, 'worker', '--task-queue', taskQueue], {
        env,
        stdio: ['ignore', out, out],
      });
    };
    const { input } = releaseInputOf(
      loadRelease(file),
      { bakeMs: 1_000, canarySoakMs: 20_000 },
      'kill-recovery bench',
      Date.now(),
    );
    worker = spawnWorker(1);
    const results: KillRecovery[] = [];
    const releaseId = input.releaseId;
    handle = await client.workflow.start(releaseWorkflowType, { workflowId: releaseId, taskQueue, args: [input] });
    for (const kind of kinds) {
      const { activity, region, slow: slowed } = plan[kind];
      const workflowId = region ? `${releaseId}.${region}.1` : releaseId;
      slow(slowed);
      // Running: started by the worker (a task only scheduled is not on it yet).
      let running;
      const deadline = Date.now() + 180_000;
      while (
        !(running = (await pendingActivity(client, workflowId, activity))?.pending) ||
        running.state !== 2 /* STARTED */
      ) {
        if (Date.now() > deadline) throw new Error(`${kind}: ${activity} never ran in ${workflowId}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const killedAttempt = running.attempt ?? 1;
      const activityId = running.activityId;
      const killed = worker;
      killed.kill('SIGKILL');
      const killedAt = Date.now();
      await new Promise((r) =>
        killed.exitCode !== null || killed.signalCode !== null ? r(undefined) : killed.once('exit', r),
      );
      worker = spawnWorker(results.length + 2);
      const identity = `${worker.pid}@${hostname()}`;
      // Recovered: the next attempt runs on the new worker (or has already finished there).
      let recoveredAt: number | undefined;
      while (recoveredAt === undefined) {
        if (Date.now() - killedAt > 300_000)
          throw new Error(`${kind}: ${activity} in ${workflowId} did not run again within 5 minutes of the kill`);
        const looked = await pendingActivity(client, workflowId, activity);
        const now = looked?.pending;
        if (now && now.activityId === activityId) {
          if ((now.attempt ?? 1) > killedAttempt && now.state === 2 && now.lastWorkerIdentity === identity)
            recoveredAt = Date.now();
        } else if (looked) {
          // Gone between two looks: its started event says when its last attempt began.
          const last = await lastStart(client, workflowId, activityId);
          if (last && last.attempt <= killedAttempt)
            throw new Error(
              `${kind}: ${activity} in ${workflowId} finished on the killed worker before the kill landed`,
            );
          if (last) recoveredAt = last.at;
        }
        if (recoveredAt === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const scheduled = history.events?.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityId === activityId,
      )?.activityTaskScheduledEventAttributes;
      const result: KillRecovery = {
        kind,
        activity,
        workflowId,
        killedAttempt,
        recoveredMs: recoveredAt - killedAt,
        heartbeatTimeoutMs: ms(scheduled?.heartbeatTimeout),
        startToCloseMs: ms(scheduled?.startToCloseTimeout),
      };
      results.push(result);
      log(
        `${kind}: ${activity} in ${workflowId}, killed in attempt ${killedAttempt}, ran again on a new worker ${(result.recoveredMs / 1000).toFixed(1)} s later (heartbeat timeout ${result.heartbeatTimeoutMs / 1000} s, start-to-close ${result.startToCloseMs / 1000} s)`,
      );
    }
    return results;
  } finally {
    slow(undefined);
    await handle?.terminate('kill-recovery measured').catch(() => undefined);
    worker?.kill('SIGKILL');
    await kube.proxies.concat(endpoint).reduce((p, proxy) => p.then(() => proxy.close()), Promise.resolve());
  }
}

/** The bench's line: the worst recovery, as a ratio of the heartbeat timeout and of the start-to-close limit kills used to cost. */
export function describeKillRecovery(results: readonly KillRecovery[]): string {
  const worst = results.reduce((a, b) => (b.recoveredMs > a.recoveredMs ? b : a));
  const s = (n: number) => `${(n / 1000).toFixed(1)} s`;
  const perKind = results.map((r) => `${r.kind} ${s(r.recoveredMs)}`).join(', ');
  return (
    `recovery from a SIGKILLed worker, worst of ${results.length} kind${results.length === 1 ? '' : 's'}: ${s(worst.recoveredMs)} (${worst.kind}), ` +
    `${(worst.recoveredMs / worst.heartbeatTimeoutMs).toFixed(2)}x its ${s(worst.heartbeatTimeoutMs)} heartbeat timeout, ` +
    `${(worst.recoveredMs / worst.startToCloseMs).toFixed(2)}x the ${s(worst.startToCloseMs)} start-to-close limit a kill cost without one; per kind: ${perKind}`
  );
}
