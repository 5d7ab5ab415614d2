import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CheckReport, IntegrationSuite } from '../domain/integration-checks';
import { describeRef, type ObjectRef, type ReleaseRef, type TemplateBundle } from '../domain/release-input';
import type { RegionSpec } from '../domain/release-spec';
import type { Client } from '@temporalio/client';
import type { AnalysisTally } from '../domain/bake-analysis';
import type { LoadBaseline, LoadFigures, ResourceUse } from '../domain/load-report';
import type { AnalysisSpec } from '../domain/release-spec';
import type { LoadTestInput } from '../domain/release-input';
import type { ReplicatedImage } from '../domain/image-replication';
import { watchBake } from '../infra/analysis/watch-bake';
import { countImageCopyBytes } from './activity-metrics';
import { classified } from './classify-failure';
import { heartbeating } from './heartbeats';
import { createTrafficActivities } from './traffic-activities';
import { type CredentialLookup, firstCredentials } from '../infra/registry/registry-auth';
import { credentialsFromSecret, type SecretRef } from '../infra/registry/secret-credentials';
import { replicateImage } from '../infra/registry/replicate-image';
import { findLoadBaseline } from '../infra/baseline/find-load-baseline';
import { type WorkerSecret, workerSecrets } from '../infra/checks/check-environment';
import { runChecks } from '../infra/checks/run-checks';
import { unpackTraffic } from '../infra/load/packed-traffic';
import { resourceUse } from '../infra/load/resource-use';
import { runLoadTest } from '../infra/load/run-load-test';
import { kubeConfigForContext } from '../infra/kubernetes/kube-config';
import {
  captureRevision,
  readRevision,
  revisionSecretName,
  restoreRevision,
} from '../infra/kubernetes/region-revision';
import { serverSideApply } from '../infra/kubernetes/server-side-apply';
import { assessDeployments } from '../infra/kubernetes/wait-for-rollout';
import { refOf, regionImage, renderManifests } from '../infra/render/render-manifests';
import { releasesQuery } from '../workflows/search-attributes';

/** What the activities need from the worker's world. Credentials stay here, never in workflow history. */
export interface ActivityDeps {
  /** The helm binary. */
  helmPath: string;
  /** Kubeconfig file; undefined means KUBECONFIG or ~/.kube/config. */
  kubeconfigFile?: string;
  logger: Logger;
  /** How often rollouts are polled. */
  pollIntervalMs?: number;
  /** A Temporal client, to find earlier releases (load-test baselines) through visibility. */
  temporalClient?: () => Promise<Client>;
  /** Registry credentials from the worker's environment (an auth file), never from the spec. */
  registryCredentials?: CredentialLookup;
  /** A dockerconfigjson Secret with registry credentials, read at each copy (MERIDIAN_REGISTRY_SECRET); it wins over the auth file. */
  registrySecret?: SecretRef;
  /** Whether command checks may run on this worker (MERIDIAN_ALLOW_COMMAND_CHECKS=1); off by default. */
  allowCommandChecks?: boolean;
  /** The worker's credentials, masked in check failures; workerSecrets(process.env) by default. */
  secrets?: readonly WorkerSecret[];
}

/** A region step's input: which release, which region, and what to render. */
export interface RegionStepInput {
  release: ReleaseRef;
  region: RegionSpec;
  template: TemplateBundle;
  values: Record<string, unknown>;
}

export interface RenderSummary {
  /** sha256 of the rendered manifests: deploy refuses anything else. */
  digest: string;
  objects: ObjectRef[];
  /** The Deployments whose rollout decides the region's. */
  deployments: ObjectRef[];
  /** The image reference Meridian set. */
  image: string;
}

export interface DeploySummary {
  digest: string;
  applied: ObjectRef[];
  /** Whether this attempt recorded the previous revision (false: an earlier attempt did). */
  revisionCaptured: boolean;
}

export function createActivities(deps: ActivityDeps) {
  const pollMs = deps.pollIntervalMs ?? 1_000;
  const secrets = deps.secrets ?? workerSecrets(process.env, { kubeconfigFile: deps.kubeconfigFile });
  const kube = (region: RegionSpec) => kubeConfigForContext(region.cluster.context, deps.kubeconfigFile);
  const log = (input: { release: ReleaseRef; region: RegionSpec }) =>
    deps.logger.child({ release: input.release.releaseId, region: input.region.name });

  /** What `{{...}}` in a region's PromQL stands for. */
  const placeholdersOf = (input: { release: ReleaseRef; region: RegionSpec }) => ({
    region: input.region.name,
    namespace: input.region.cluster.namespace,
    app: input.release.app,
    version: input.release.version,
  });

  async function render(input: RegionStepInput) {
    return renderManifests(deps.helmPath, input);
  }

  return {
    ...createTrafficActivities({ logger: deps.logger }),
    /** Makes sure the release's image is in a registry, by digest (copied, or waited for when geo-replicated). */
    async replicateImage(input: { release: ReleaseRef; registry: string }): Promise<ReplicatedImage> {
      const ctx = Context.current();
      const logger = deps.logger.child({ release: input.release.releaseId, registry: input.registry });
      const secret = deps.registrySecret;
      const done = await heartbeating(async (beat) => {
        const fromSecret = secret
          ? await classified(() =>
              credentialsFromSecret(kubeConfigForContext(secret.context, deps.kubeconfigFile), secret),
            )
          : undefined;
        return replicateImage(input, {
          credentials: firstCredentials(fromSecret, deps.registryCredentials),
          signal: ctx.cancellationSignal,
          heartbeat: beat,
          onBlobCopied: (bytes) => countImageCopyBytes(bytes, input.registry),
        });
      });
      logger.info(
        { digest: done.digest, how: done.how, blobs: done.blobs, elapsedMs: done.elapsedMs },
        'image in registry',
      );
      return done;
    },

    /** Renders the region's manifests and summarises them; the manifests themselves stay out of history. */
    async renderRegion(input: RegionStepInput): Promise<RenderSummary> {
      return classified(async () => {
        const { objects, digest } = await render(input);
        const deployments = objects.filter((o) => o.kind === 'Deployment').map(refOf);
        if (deployments.length === 0)
          throw ApplicationFailure.nonRetryable('the template renders no Deployment to roll out', 'InvalidInput');
        const image = regionImage(input.release, input.region);
        log(input).info({ digest, objects: objects.length }, 'rendered region manifests');
        return { digest, objects: objects.map(refOf), deployments, image };
      });
    },

    /**
     * Deploys the manifests that renderRegion summarised: validates them by server-side dry run, records
     * what the region ran before (once), then server-side applies them. Applying the same manifests
     * again changes nothing, so a retry never deploys twice.
     */
    async deployRegion(input: RegionStepInput & { digest: string }): Promise<DeploySummary> {
      return classified(() =>
        heartbeating(async (beat) => {
          const { objects, digest } = await render(input);
          if (digest !== input.digest) {
            throw ApplicationFailure.nonRetryable(
              `the template rendered differently than when the region was rendered (${digest.slice(0, 12)} vs ${input.digest.slice(0, 12)}): is helm or the worker different?`,
              'RenderMismatch',
            );
          }
          const kc = kube(input.region);
          const namespace = input.region.cluster.namespace;
          beat({ step: 'rendered' });
          await serverSideApply(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
          await serverSideApply(kc, objects, { dryRun: true });
          beat({ step: 'validated by server-side dry run' });
          const revision = await captureRevision(
            kc,
            namespace,
            revisionSecretName(input.release.app, input.release.releaseId),
            {
              'meridian.dev/app': input.release.app,
              'meridian.dev/version': input.release.version.replace(/[^A-Za-z0-9._-]/g, '_'),
            },
            objects.map(refOf),
          );
          beat({ step: 'recorded the previous revision' });
          await serverSideApply(kc, objects as KubernetesObject[]);
          log(input).info(
            { digest, objects: objects.length, revisionCaptured: revision.captured },
            'applied region manifests',
          );
          return { digest, applied: objects.map(refOf), revisionCaptured: revision.captured };
        }),
      );
    },

    /** Waits until every Deployment has rolled out; fails at once on ProgressDeadlineExceeded. */
    async waitForRollout(input: {
      release: ReleaseRef;
      region: RegionSpec;
      deployments: ObjectRef[];
      timeoutMs: number;
    }): Promise<{ elapsedMs: number }> {
      return classified(() =>
        heartbeating(async (beat) => {
          const ctx = Context.current();
          const kc = kube(input.region);
          const started = Date.now();
          for (;;) {
            const { assessment, deployment } = await assessDeployments(kc, input.deployments);
            if (assessment.state === 'complete') return { elapsedMs: Date.now() - started };
            if (assessment.state === 'failed') {
              throw ApplicationFailure.nonRetryable(
                `Deployment ${deployment} failed to roll out: ${assessment.reason}: ${assessment.message}`,
                'RolloutFailed',
              );
            }
            if (Date.now() - started > input.timeoutMs) {
              throw ApplicationFailure.nonRetryable(
                `Deployment ${deployment} did not roll out in time: still waiting for ${assessment.waitingFor}`,
                'RolloutTimedOut',
              );
            }
            beat({ deployment, waitingFor: assessment.waitingFor });
            await ctx.sleep(pollMs);
          }
        }),
      );
    },

    /**
     * Runs the integration suite (http, job and command checks) against the region; a failing check is
     * a result, not an error. Heartbeats while long checks run, so a lost worker is noticed.
     */
    async runIntegrationChecks(input: {
      release: ReleaseRef;
      region: RegionSpec;
      checks: IntegrationSuite;
      attempt?: number;
    }): Promise<CheckReport> {
      return classified(() =>
        heartbeating(async (beat) => {
          const ctx = Context.current();
          const report = await runChecks(input.checks.checks, {
            release: input.release,
            region: input.region,
            runKey: `${input.release.releaseId}/${input.region.name}/${input.attempt ?? 1}`,
            kube: () => kube(input.region),
            pollMs,
            onProgress: (state) => beat({ state }),
            signal: ctx.cancellationSignal,
            allowCommandChecks: deps.allowCommandChecks ?? false,
            secrets,
          });
          log(input).info(
            { passed: report.passed, failed: report.results.filter((r) => !r.passed).map((r) => r.name) },
            'ran integration checks',
          );
          return report;
        }),
      );
    },

    /** The load-test figures of the app's last successful release in this environment, if there is one. */
    async findLoadBaseline(input: {
      app: string;
      environment: string;
      rate?: number;
      excludeReleaseId: string;
    }): Promise<LoadBaseline | undefined> {
      if (!deps.temporalClient) return undefined;
      const releases = releasesQuery({ app: input.app, executionStatus: 'Completed' });
      return findLoadBaseline(await deps.temporalClient(), {
        releases,
        environment: input.environment,
        rate: input.rate,
        excludeReleaseId: input.excludeReleaseId,
      });
    },

    /**
     * Replays the recorded traffic against the region's endpoint at the asked rate, then reads the
     * service's CPU and memory over the test from Prometheus. Judging the figures is the workflow's.
     */
    async runLoadTest(input: {
      release: ReleaseRef;
      region: RegionSpec;
      load: LoadTestInput;
      prometheusUrl?: string;
    }): Promise<{ figures: LoadFigures; resources?: ResourceUse }> {
      // Heartbeating also while Prometheus is read after the test.
      return classified(() =>
        heartbeating(async (beat) => {
          const ctx = Context.current();
          const { spec } = input.load;
          const from = new Date();
          const figures = await runLoadTest({
            endpoint: input.region.endpoint,
            requests: unpackTraffic(input.load.traffic),
            rate: spec.rate,
            durationMs: input.load.durationMs,
            connections: spec.connections,
            onProgress: (sent) => beat({ sent }),
            signal: ctx.cancellationSignal,
          });
          const resources =
            spec.resources && input.prometheusUrl
              ? await resourceUse(input.prometheusUrl, spec.resources, placeholdersOf(input), from, new Date())
              : undefined;
          log(input).info(
            { requests: figures.requests, errorRate: figures.errorRate, p99: figures.latencyMs.p99 },
            'ran load test',
          );
          return { figures, resources };
        }),
      );
    },

    /**
     * Watches a stretch of a region's bake: a measurement every interval (HTTP probes, Prometheus
     * queries), tallied. Heartbeats carry the tally, so a retry on another worker resumes the watch.
     */
    async watchBake(input: {
      release: ReleaseRef;
      region: RegionSpec;
      analysis: AnalysisSpec;
      prometheusUrl?: string;
      startedAt: number;
      until: number;
      final: boolean;
      tally: AnalysisTally;
    }): Promise<{ tally: AnalysisTally; requests?: number }> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as AnalysisTally | undefined;
      const latest = resumed && resumed.measurements >= input.tally.measurements ? resumed : input.tally;
      // Heartbeats carry the latest tally, also while a measurement's probes and queries are answered.
      const out = await heartbeating((beat) => {
        beat(latest);
        return watchBake(
          {
            analysis: input.analysis,
            target: {
              endpoint: input.region.endpoint,
              prometheusUrl: input.prometheusUrl,
              placeholders: placeholdersOf(input),
            },
            startedAt: input.startedAt,
            until: input.until,
            final: input.final,
            tally: latest,
          },
          {
            wait: async (ms) => {
              const end = Date.now() + ms;
              while (Date.now() < end) {
                if (ctx.cancellationSignal.aborted) return false;
                await new Promise((r) => setTimeout(r, Math.min(5_000, end - Date.now())));
              }
              return !ctx.cancellationSignal.aborted;
            },
            checkpoint: beat,
          },
        );
      });
      // Cut short, the watch has not seen its window: fail as cancelled so that it is retried or abandoned.
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('bake watch cancelled');
      if (out.tally.verdict !== 'running')
        log(input).warn({ verdict: out.tally.verdict, reason: out.tally.reason }, 'bake analysis decided');
      return out;
    },

    /** Puts the region back to what it ran before the release, from the revision deployRegion recorded. */
    async rollbackRegion(input: {
      release: ReleaseRef;
      region: RegionSpec;
    }): Promise<{ restored: string[]; deleted: string[]; recorded: boolean; deployments?: ObjectRef[] }> {
      return classified(() =>
        heartbeating(async (beat) => {
          const kc = kube(input.region);
          const entries = await readRevision(
            kc,
            input.region.cluster.namespace,
            revisionSecretName(input.release.app, input.release.releaseId),
          );
          if (!entries) return { restored: [], deleted: [], recorded: false, deployments: [] };
          beat({ step: `restoring ${entries.length} objects` });
          const { restored, deleted } = await restoreRevision(kc, entries);
          log(input).warn({ restored: restored.length, deleted: deleted.length }, 'rolled region back');
          // The restored Deployments, for the caller to wait for their rollout.
          const deployments = restored.filter((ref) => ref.kind === 'Deployment');
          return {
            restored: restored.map(describeRef),
            deleted: deleted.map(describeRef),
            recorded: true,
            deployments,
          };
        }),
      );
    },
  };
}

/** The activities as the workflows see them (types only). */
export type MeridianActivities = ReturnType<typeof createActivities>;
