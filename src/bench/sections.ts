/**
 * The bench's sections, in the order they run: each one's sizes, full and quick, and how its measurement
 * becomes printed lines and figures. main.ts only picks sections and runs them; each measurement lives in
 * its own module beside this one, with a quick form in test/bench that CI runs.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultRigConfigFile, loadRigConfig, rigLayout } from '../rig/rig-config';
import { loadTemporalConnectionConfig, connectionOptions } from '../temporal/connection-config';
import { compareApplyWithFloor, describeApplyComparison } from './apply-vs-floor';
import { compareCliStartup, defaultStartupCommands, describeCliStartup } from './cli-startup';
import { describeConcurrentReleases, measureConcurrentReleases } from './concurrent-releases';
import { figure, type SectionResult } from './figures';
import { compareWithSkopeo, describeReplicationComparison, replicationFigures } from './image-replication-vs-skopeo';
import { benchInputParsing, describeInputParsing } from './input-parsing';
import { describeKillRecovery, type KillKind, killKinds, measureKillRecovery } from './kill-recovery';
import { compareWithWrk, describeGeneratorComparison, generatorFigures } from './load-generator-vs-wrk';
import type { NoopWorld } from './noop-worker';
import { noopWorkerOn, withNoopWorker } from './noop-worker';
import { describeOverheadRuns, measureOverheadRuns } from './orchestration-overhead';
import { withPrivateDevServer } from './private-dev-server';
import { describeHistorySizes, measureManyRegionsHistory, measureSoakHistory } from './history-size';
import { withTimeSkippingServer } from './time-skipping-server';
import { describeScaleOut, measureScaleOut } from './scale-out';
import { describePlanning, measurePlanning } from './planning';
import { describeTrafficFailover, measureTrafficFailover } from './traffic-failover';
import { describeReleaseChecks, measureReleaseChecks } from './rig-release-checks';
import { describeRigServicesIdle, measureRigServicesIdle } from './rig-services-idle';

/** The section names `--only` takes, in the order they run. */
export const sectionNames = [
  'overhead',
  'concurrent',
  'apply',
  'load',
  'images',
  'kills',
  'cli',
  'parsing',
  'traffic',
  'planning',
  'history',
  'scale',
  'rig-idle',
  'rig-release',
] as const;
export type SectionName = (typeof sectionNames)[number];

/** What a section may need from the run. */
export interface SectionContext {
  /** Quick sizes (`--quick`): seconds, tiny sizes, what CI runs. */
  quick: boolean;
  /** A no-op worker on the rig's Temporal (sections with `needsWorker` only). */
  world?: NoopWorld;
}

/** One section of the bench. */
export interface Section {
  name: SectionName;
  /** Its number in the output. */
  number: number;
  /** Needs the local rig (`meridian dev up`): its Temporal server, clusters or registries. */
  needsRig: boolean;
  /** Runs on the no-op worker the run starts once for all such sections. */
  needsWorker?: boolean;
  /** The sizes it runs at, in words. */
  sizes: (quick: boolean) => string;
  run: (ctx: SectionContext) => Promise<SectionResult>;
}

const envNumber = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number, got ${JSON.stringify(raw)}`);
  return n;
};

const needWorld = (ctx: SectionContext): NoopWorld => {
  if (!ctx.world) throw new Error('this section runs on the no-op worker: run it through main.ts');
  return ctx.world;
};

const overheadSizes = (quick: boolean) => ({ regions: quick ? 5 : 50, aloneRegions: quick ? 2 : 20 });
const concurrentSizes = (quick: boolean) => ({ releases: quick ? 5 : envNumber('BENCH_RELEASES', 200) });
const applySizes = (quick: boolean) => ({ rounds: quick ? 2 : 30 });
const loadSizes = (quick: boolean) =>
  quick
    ? { connections: 4, durationMs: 1000, rounds: 1, openRate: 500 }
    : {
        connections: envNumber('BENCH_LOAD_CONNECTIONS', 10),
        durationMs: 10_000,
        rounds: 3,
        openRate: envNumber('BENCH_LOAD_RATE', 5000),
      };
const imageSizes = (quick: boolean) => ({
  totalBytes: quick ? 300 * 1024 : 200e6,
  layers: quick ? 3 : 6,
  sharedLayers: quick ? 1 : 2,
  platforms: ['linux/amd64', 'linux/arm64'],
  registries: 3,
  rounds: quick ? 1 : envNumber('BENCH_IMAGE_ROUNDS', 8),
});
const killSizes = (quick: boolean): readonly KillKind[] => {
  if (process.env.BENCH_KILL_KINDS) {
    const kinds = process.env.BENCH_KILL_KINDS.split(',');
    const unknown = kinds.filter((k) => !(killKinds as readonly string[]).includes(k));
    if (unknown.length > 0)
      throw new Error(
        `BENCH_KILL_KINDS takes kinds separated by commas, from ${killKinds.join(', ')} (unknown: ${unknown.join(', ')})`,
      );
    return kinds as KillKind[];
  }
  return quick ? ['checks'] : killKinds;
};
const cliSizes = (quick: boolean) =>
  quick ? { commands: defaultStartupCommands.slice(0, 2), rounds: 1 } : { commands: defaultStartupCommands, rounds: 5 };
const parsingSizes = (quick: boolean) =>
  quick ? { rounds: 1, longLineChars: 256 * 1024 } : { rounds: 5, longLineChars: 2 * 1024 * 1024 };
const trafficSizes = (quick: boolean) => ({ trials: quick ? 2 : envNumber('BENCH_TRAFFIC_TRIALS', 10) });
const historySizes = (quick: boolean) => ({ regions: quick ? 5 : 500, soakMs: (quick ? 2 : 72) * 3_600_000 });
const scaleSizes = (quick: boolean) => ({ releases: quick ? 5 : envNumber('BENCH_SCALE_RELEASES', 1000) });
const planningSizes = (quick: boolean) => ({ regions: quick ? 50 : 500, rounds: quick ? 2 : 10 });
const rigIdleSizes = (quick: boolean) => ({ regions: quick ? 3 : 30, windowMs: quick ? 3_000 : 30_000 });
const rigReleaseSizes = (quick: boolean) =>
  quick ? { regions: 3, maxParallel: 2, bakeMs: 1_000 } : { regions: 30, maxParallel: 10, bakeMs: 5_000 };

/** The rig's Temporal, unless TEMPORAL_* or a temporal.toml profile names another. */
export function rigTemporal() {
  const config = loadRigConfig(defaultRigConfigFile());
  return loadTemporalConnectionConfig(process.env, {
    address: `127.0.0.1:${config.temporal.port}`,
    namespace: config.temporal.namespace,
  });
}

async function killRecovery(kinds: readonly KillKind[]): Promise<SectionResult> {
  const layout = rigLayout();
  const temporal = rigTemporal();
  const env = {
    ...process.env,
    KUBECONFIG: layout.kubeconfig,
    TEMPORAL_ADDRESS: temporal.address,
    MERIDIAN_LOG_LEVEL: 'warn',
  };
  const connection = await Connection.connect(connectionOptions(temporal));
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    const results = await measureKillRecovery({ client, env, kinds, logDir: join(layout.logs, 'bench-workers') });
    return {
      text: describeKillRecovery(results),
      figures: results.map((r) =>
        figure(`recovery from a SIGKILLed worker in ${r.kind} (${r.activity})`, 's', r.recoveredMs / 1000, {
          name: 'heartbeat timeout',
          value: r.heartbeatTimeoutMs / 1000,
        }),
      ),
    };
  } finally {
    await connection.close();
  }
}

/** A many-region release on the rig with its own services and worker (rig-release-checks.ts). */
async function rigReleaseChecks(sizes: ReturnType<typeof rigReleaseSizes>): Promise<SectionResult> {
  const layout = rigLayout();
  const temporal = rigTemporal();
  const connection = await Connection.connect(connectionOptions(temporal));
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    return describeReleaseChecks(
      await measureReleaseChecks({
        client,
        rig: loadRigConfig(defaultRigConfigFile()),
        kubeconfig: layout.kubeconfig,
        logDir: join(layout.logs, 'bench-workers'),
        env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace },
        ...sizes,
      }),
    );
  } finally {
    await connection.close();
  }
}

/** Every section, in order. */
export const sections: Section[] = [
  {
    name: 'overhead',
    number: 1,
    needsRig: false,
    sizes: (q) =>
      `${overheadSizes(q).regions} regions, then ${overheadSizes(q).aloneRegions} one at a time, on a dev server of its own`,
    run: async (ctx) =>
      describeOverheadRuns(
        await withPrivateDevServer((temporal) =>
          withNoopWorker(temporal, (world) => measureOverheadRuns(world, overheadSizes(ctx.quick))),
        ),
      ),
  },
  {
    name: 'concurrent',
    number: 2,
    needsRig: true,
    needsWorker: true,
    sizes: (q) => `${concurrentSizes(q).releases} releases of 5 regions`,
    run: async (ctx) =>
      describeConcurrentReleases(await measureConcurrentReleases(needWorld(ctx), concurrentSizes(ctx.quick))),
  },
  {
    name: 'apply',
    number: 3,
    needsRig: true,
    sizes: (q) => `${applySizes(q).rounds} rounds`,
    run: async (ctx) =>
      describeApplyComparison(
        await compareApplyWithFloor({ kubeconfig: rigLayout().kubeconfig, ...applySizes(ctx.quick) }),
      ),
  },
  {
    name: 'load',
    number: 4,
    needsRig: false,
    sizes: (q) => {
      const s = loadSizes(q);
      return `${s.connections} connections, ${s.rounds} rounds of ${s.durationMs / 1000} s, open model at ${s.openRate} requests/s`;
    },
    run: async (ctx) => {
      const c = await compareWithWrk(loadSizes(ctx.quick));
      return { text: describeGeneratorComparison(c), figures: generatorFigures(c) };
    },
  },
  {
    name: 'images',
    number: 5,
    needsRig: false,
    sizes: (q) => {
      const s = imageSizes(q);
      return `${(s.totalBytes / 1e6).toFixed(1)} MB, ${s.layers} layers, ${s.registries} registries, ${s.rounds} rounds`;
    },
    run: async (ctx) => {
      const c = await compareWithSkopeo(imageSizes(ctx.quick));
      return { text: describeReplicationComparison(c), figures: replicationFigures(c) };
    },
  },
  {
    name: 'kills',
    number: 6,
    needsRig: true,
    sizes: (q) => `kinds: ${killSizes(q).join(', ')}`,
    run: (ctx) => killRecovery(killSizes(ctx.quick)),
  },
  {
    name: 'cli',
    number: 7,
    needsRig: false,
    sizes: (q) => `${cliSizes(q).commands.length} commands, ${cliSizes(q).rounds} rounds`,
    run: async (ctx) => {
      const c = compareCliStartup(cliSizes(ctx.quick));
      return {
        text: describeCliStartup(c),
        figures: c.commands.map((s) =>
          figure(`meridian ${s.command}, start to exit`, 'ms', s.lazyMs, {
            name: 'every command loaded up front',
            value: s.eagerMs,
          }),
        ),
      };
    },
  },
  {
    name: 'parsing',
    number: 8,
    needsRig: false,
    sizes: (q) => `${parsingSizes(q).rounds} rounds, long line ${parsingSizes(q).longLineChars} characters`,
    run: async (ctx) => {
      const results = benchInputParsing(parsingSizes(ctx.quick));
      return {
        text: describeInputParsing(results),
        figures: results.map((r) =>
          figure(`parsing: ${r.name}`, 'ms', r.parseMs, { name: 'JSON.parse', value: Math.max(r.baselineMs, 0.001) }),
        ),
      };
    },
  },
  {
    name: 'traffic',
    number: 9,
    needsRig: false,
    sizes: (q) => `${trafficSizes(q).trials} trials`,
    run: async (ctx) => {
      const r = await measureTrafficFailover(trafficSizes(ctx.quick));
      const interval = { name: 'health check interval', value: r.intervalMs };
      const ttl = { name: 'TTL', value: r.ttlMs };
      return {
        text: describeTrafficFailover(r),
        figures: [
          figure('DNS failover, health lost to answer changed, median', 'ms', r.failoverMedianMs, interval),
          figure('DNS recovery, health back to answered again, median', 'ms', r.recoveryMedianMs, interval),
          figure('drain propagation from the write, median', 'ms', r.drainFromStartMedianMs, ttl),
          figure('drain propagation after the write returned, median', 'ms', r.drainFromReturnMedianMs, ttl),
        ],
      };
    },
  },
  {
    name: 'planning',
    number: 10,
    needsRig: false,
    sizes: (q) => `${planningSizes(q).regions} regions, ${planningSizes(q).rounds} rounds`,
    run: async (ctx) => describePlanning(measurePlanning(planningSizes(ctx.quick))),
  },
  {
    name: 'history',
    number: 11,
    needsRig: false,
    sizes: (q) =>
      `${historySizes(q).regions} regions on a dev server of its own; a ${historySizes(q).soakMs / 3_600_000}-hour soak on a time-skipping server`,
    run: async (ctx) => {
      const sizes = historySizes(ctx.quick);
      const many = await withPrivateDevServer((temporal) =>
        withNoopWorker(temporal, (world) => measureManyRegionsHistory(world, sizes.regions)),
      );
      const soak = await withTimeSkippingServer((env) =>
        noopWorkerOn(
          { native: env.nativeConnection, client: env.client, namespace: env.namespace ?? 'default' },
          (world) => measureSoakHistory(world, sizes.soakMs),
        ),
      );
      return describeHistorySizes(many, soak);
    },
  },
  {
    name: 'scale',
    number: 12,
    needsRig: false,
    sizes: (q) =>
      `${scaleSizes(q).releases} releases of 5 regions on one worker process, then two, on a dev server of its own`,
    run: async (ctx) =>
      describeScaleOut(
        await withPrivateDevServer(async (temporal) => {
          const connection = await Connection.connect(connectionOptions(temporal));
          try {
            const client = new Client({ connection, namespace: temporal.namespace });
            return await measureScaleOut({ client, ...temporal }, scaleSizes(ctx.quick).releases);
          } finally {
            await connection.close();
          }
        }),
      ),
  },
  {
    name: 'rig-idle',
    number: 13,
    needsRig: true,
    sizes: (q) => `${rigIdleSizes(q).regions} regions, ${rigIdleSizes(q).windowMs / 1000} s window`,
    run: async (ctx) => {
      const config = loadRigConfig(defaultRigConfigFile());
      return describeRigServicesIdle(
        await measureRigServicesIdle({
          kubeconfig: rigLayout().kubeconfig,
          contexts: config.clusters.map((c) => c.context),
          ...rigIdleSizes(ctx.quick),
        }),
      );
    },
  },
  {
    name: 'rig-release',
    number: 14,
    needsRig: true,
    sizes: (q) =>
      `${rigReleaseSizes(q).regions} regions, up to ${rigReleaseSizes(q).maxParallel} at once, ${rigReleaseSizes(q).bakeMs / 1000} s bakes`,
    run: (ctx) => rigReleaseChecks(rigReleaseSizes(ctx.quick)),
  },
];
