/**
 * How big a release's histories grow, against Temporal's limits: a release of many regions (its own
 * history holds every region child's start, input and result) and a 72-hour canary soak with bake
 * analysis (one region's history holds every stretch watched). No-op activities; sizes are what the
 * server stores, the history re-encoded as protobuf.
 */
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { analysisSchema, type ReleaseSpec } from '../domain/release-spec';
import { packTemplate } from '../infra/render/template-bundle';
import type { releaseWorkflow } from '../workflows/release-workflow';
import { figure, type SectionResult } from './figures';
import { benchReleaseInput, type NoopWorld } from './noop-worker';
import { loadSyntheticRelease } from './synthetic-release';

/** Temporal's default limits on one history (limit.historyCount.error, limit.historySize.error). */
export const historyLimits = { events: 51_200, bytes: 50 * 1024 * 1024 } as const;
/** Where Temporal starts warning (limit.historyCount.warn, limit.historySize.warn). */
export const historyWarnings = { events: 10_240, bytes: 10 * 1024 * 1024 } as const;

/** One workflow's history. */
export interface HistorySize {
  workflowId: string;
  events: number;
  bytes: number;
}

/** A workflow's history, sized as the server stores it. */
export async function historySize(client: Client, workflowId: string): Promise<HistorySize> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  return { workflowId, events: history.events?.length ?? 0, bytes };
}

/** A release of many regions: its history, and what one region child adds to it. */
export interface ManyRegionsHistory {
  regions: number;
  phase: string;
  release: HistorySize;
  /** Bytes of one region child's start in the release's history (its input: template, values, checks). */
  childStartBytes: number;
  /** Bytes of the packed template in each child's input. */
  templateBytes: number;
}

/** Runs a release of `regions` synthetic regions (zero bake) and sizes its history. */
export async function measureManyRegionsHistory(world: NoopWorld, regions: number): Promise<ManyRegionsHistory> {
  const { spec, templateDir } = loadSyntheticRelease({ regions, traits: 'uniform' });
  const releaseId = `bench-history-${regions}-${Date.now().toString(36)}`;
  // The example chart, packed as `meridian start` packs it: every region child's input carries it.
  const template = packTemplate(templateDir, 'helm', spec.metadata.app, 'spec.template.helm.chart');
  const result = await world.client.workflow.execute<typeof releaseWorkflow>('releaseWorkflow', {
    workflowId: releaseId,
    taskQueue: world.taskQueue,
    args: [{ ...benchReleaseInput(releaseId, spec), template }],
  });
  const history = await world.client.workflow.getHandle(releaseId).fetchHistory();
  const childStart = (history.events ?? []).find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  return {
    regions,
    phase: result.phase,
    release: await historySize(world.client, releaseId),
    childStartBytes: childStart ? temporal.api.history.v1.HistoryEvent.encode(childStart).finish().length : 0,
    templateBytes: template.files.length,
  };
}

/** The 72-hour soak: the canary's history through a bake watched in stretches. */
export interface SoakHistory {
  soakHours: number;
  /** The stretches watched (watchBake activities). */
  windows: number;
  canary: HistorySize;
  release: HistorySize;
}

/** A 2-region release whose canary soaks `soakMs` with bake analysis; for a time-skipping server. */
export async function measureSoakHistory(world: NoopWorld, soakMs: number): Promise<SoakHistory> {
  const { spec } = loadSyntheticRelease({ regions: 2, traits: 'uniform' });
  const withAnalysis: ReleaseSpec = {
    ...spec,
    spec: {
      ...spec.spec,
      validation: {
        ...spec.spec.validation,
        analysis: analysisSchema.parse({ probes: [{ name: 'health', path: '/healthz' }] }),
      },
    },
  };
  const releaseId = `bench-soak-${Date.now().toString(36)}`;
  const input = benchReleaseInput(releaseId, withAnalysis);
  await world.client.workflow.execute<typeof releaseWorkflow>('releaseWorkflow', {
    workflowId: releaseId,
    taskQueue: world.taskQueue,
    args: [{ ...input, overrides: { ...input.overrides, canarySoakMs: soakMs } }],
  });
  const canaryId = `${releaseId}.${spec.spec.regions[0].name}.1`;
  const events = (await world.client.workflow.getHandle(canaryId).fetchHistory()).events ?? [];
  return {
    soakHours: soakMs / 3_600_000,
    windows: events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchBake').length,
    canary: await historySize(world.client, canaryId),
    release: await historySize(world.client, releaseId),
  };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const ofLimit = (h: HistorySize) =>
  `${h.events.toLocaleString('en-US')} events (${((h.events / historyLimits.events) * 100).toFixed(1)}% of the ${historyLimits.events.toLocaleString('en-US')}-event limit), ` +
  `${mib(h.bytes)} (${((h.bytes / historyLimits.bytes) * 100).toFixed(2)}% of the 50 MiB limit)`;

/** Regions a release could have before its history reaches Temporal's warning, at this size per region. */
export function regionsBeforeWarning(many: ManyRegionsHistory): { byEvents: number; byBytes: number } {
  const perRegionEvents = many.release.events / many.regions;
  const perRegionBytes = many.release.bytes / many.regions;
  return {
    byEvents: Math.floor(historyWarnings.events / perRegionEvents),
    byBytes: Math.floor(historyWarnings.bytes / perRegionBytes),
  };
}

/** The section's lines and figures. */
export function describeHistorySizes(many: ManyRegionsHistory, soak: SoakHistory): SectionResult {
  const room = regionsBeforeWarning(many);
  const text =
    `history of a ${many.regions}-region release (${many.phase}): ${ofLimit(many.release)}; ` +
    `each region child's start carries ${(many.childStartBytes / 1024).toFixed(1)} KiB of input, ${(many.templateBytes / 1024).toFixed(1)} KiB of it the packed example chart; ` +
    `at this size Temporal's warning (10,240 events, 10 MiB) comes at ${room.byEvents.toLocaleString('en-US')} regions by events, ` +
    `${room.byBytes.toLocaleString('en-US')} by bytes` +
    `\n   a ${soak.soakHours}-hour canary soak with bake analysis (${soak.windows} stretches watched): the canary's history ${ofLimit(soak.canary)}; ` +
    `the release's ${ofLimit(soak.release)}`;
  const limitEvents = { name: 'Temporal limit', value: historyLimits.events };
  const limitBytes = { name: 'Temporal limit', value: historyLimits.bytes / 1024 / 1024 };
  return {
    text,
    figures: [
      figure(`history, ${many.regions}-region release: events`, 'events', many.release.events, limitEvents),
      figure(`history, ${many.regions}-region release: size`, 'MiB', many.release.bytes / 1024 / 1024, limitBytes),
      figure(`history, ${soak.soakHours}-hour canary soak: events`, 'events', soak.canary.events, limitEvents),
      figure(`history, ${soak.soakHours}-hour canary soak: size`, 'MiB', soak.canary.bytes / 1024 / 1024, limitBytes),
    ],
  };
}
