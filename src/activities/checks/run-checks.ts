import type { KubeConfig } from '@kubernetes/client-node';
import type { CheckReport, CheckResult, IntegrationCheck } from '../../domain/integration-checks';
import type { ReleaseRef } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';
import { checkEnvironment } from './check-environment';
import { runCommandCheck } from './run-command-check';
import { runHttpCheck } from './run-http-checks';
import { runJobCheck } from './run-job-check';

export interface ChecksContext {
  release: ReleaseRef;
  region: RegionSpec;
  /** Identifies this run of the suite (release, region, attempt): job checks are created once per run. */
  runKey: string;
  kube: () => KubeConfig;
  pollMs: number;
  /** Called before each check and while long checks run. */
  onProgress?: (state: string) => void;
  signal?: AbortSignal;
}

/** Runs every check of a suite against one region, one after another, and reports them all. */
export async function runChecks(checks: readonly IntegrationCheck[], context: ChecksContext): Promise<CheckReport> {
  const { release, region } = context;
  const environment = checkEnvironment(release, region);
  const results: CheckResult[] = [];
  for (const check of checks) {
    context.onProgress?.(`check ${check.name}`);
    switch (check.kind) {
      case 'http':
        results.push(await runHttpCheck(region.endpoint, check));
        break;
      case 'command':
        results.push(await runCommandCheck(check, environment, context.signal));
        break;
      case 'job':
        results.push(
          await runJobCheck(check, {
            kc: context.kube(),
            namespace: region.cluster.namespace,
            runKey: context.runKey,
            environment,
            pollMs: context.pollMs,
            onPoll: context.onProgress,
            signal: context.signal,
          }),
        );
        break;
    }
    // A cancelled check proves nothing about the region: the activity fails as cancelled and is
    // retried (worker shutdown) or abandoned (abort), never reported as a failing check.
    if (context.signal?.aborted) throw context.signal.reason ?? new Error('integration checks cancelled');
  }
  return { endpoint: region.endpoint, passed: results.every((r) => r.passed), results };
}
