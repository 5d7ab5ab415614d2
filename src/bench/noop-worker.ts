/**
 * A worker whose activities do nothing, on a task queue of its own, so the orchestration sections
 * (overhead, concurrent) measure Temporal round trips and workflow code alone.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { MeridianActivities } from '../activities/region-activities';
import type { ReleaseInput } from '../domain/release-input';
import type { ReleaseSpec } from '../domain/release-spec';
import { connectionOptions, type TemporalConnectionConfig } from '../temporal/connection-config';

/** Activities that do nothing, so a run measures orchestration alone. */
export const noopActivities: MeridianActivities = {
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
  // A healthy region: each stretch watched is one passing measurement, so a bake with analysis passes.
  async watchBake({ tally }) {
    return { tally: { ...tally, measurements: tally.measurements + 1, passed: tally.passed + 1 } };
  },
  async steerRegion({ share, note }) {
    return { mode: share >= 1 ? 'in' : share <= 0 ? 'drained' : 'ramp', share, ...note };
  },
  async prepareSteering() {},
};

/** A release's workflow input for a synthetic spec: zero bake and canary soak, one HTTP check. */
export function benchReleaseInput(releaseId: string, spec: ReleaseSpec): ReleaseInput {
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

/** What a bench body gets: a client, and the task queue the no-op worker polls. */
export interface NoopWorld {
  client: Client;
  taskQueue: string;
}

/** Where the workflow code comes from: by default the workflows and interceptors `meridian worker` registers. */
export type WorkflowCode = Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'interceptors'>;

/** Runs `body` while a no-op worker polls a fresh task queue on `temporal`; closes both connections after. */
export async function withNoopWorker<T>(
  temporal: TemporalConnectionConfig,
  body: (world: NoopWorld) => Promise<T>,
  code: WorkflowCode = meridianWorkflowCode(),
): Promise<T> {
  const connection = await Connection.connect(connectionOptions(temporal));
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    const native = await NativeConnection.connect(connectionOptions(temporal));
    try {
      return await noopWorkerOn({ native, client, namespace: temporal.namespace }, body, code);
    } finally {
      await native.close();
    }
  } finally {
    await connection.close();
  }
}

/** The workflows and interceptors `meridian worker` registers. */
export function meridianWorkflowCode(): WorkflowCode {
  return {
    workflowsPath: require.resolve('../workflows'),
    interceptors: { workflowModules: [require.resolve('../workflows/sender-identity')] },
  };
}

/** Runs `body` while a no-op worker polls a fresh task queue over connections the caller owns (a test server's). */
export async function noopWorkerOn<T>(
  on: { native: NativeConnection; client: Client; namespace: string },
  body: (world: NoopWorld) => Promise<T>,
  code: WorkflowCode = meridianWorkflowCode(),
): Promise<T> {
  const taskQueue = `meridian-bench-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const worker = await Worker.create({
    connection: on.native,
    namespace: on.namespace,
    taskQueue,
    ...code,
    activities: noopActivities,
  });
  return await worker.runUntil(() => body({ client: on.client, taskQueue }));
}
