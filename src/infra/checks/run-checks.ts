import type { KubeConfig } from '@kubernetes/client-node';
import type { CheckReport, CheckResult, IntegrationCheck } from '../../domain/integration-checks';
import type { ReleaseRef } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';
import { InvalidInputError } from '../../domain/errors';
import { checkEnvironment, scrubSecrets, type WorkerSecret } from './check-environment';
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
  /** Whether this worker runs command checks (MERIDIAN_ALLOW_COMMAND_CHECKS=1): they run programs on the worker's machine. */
  allowCommandChecks?: boolean;
  /** The worker's credentials, masked in every failure a check reports; see workerSecrets. */
  secrets?: readonly WorkerSecret[];
  /** The worker's environment, of which command checks get only a few variables; process.env by default. */
  workerEnv?: Record<string, string | undefined>;
}

/** The worker setting that lets command checks run. */
export const allowCommandChecksVariable = 'MERIDIAN_ALLOW_COMMAND_CHECKS';

/**
 * Runs every check of a suite against one region, one after another, and reports them all, each failure
 * scrubbed of the worker's secrets. A suite with command checks on a worker that does not allow them
 * runs nothing: an InvalidInputError (non-retryable) names the setting.
 */
export async function runChecks(checks: readonly IntegrationCheck[], context: ChecksContext): Promise<CheckReport> {
  const { release, region } = context;
  const commands = checks.filter((c) => c.kind === 'command');
  if (commands.length > 0 && !context.allowCommandChecks) {
    throw new InvalidInputError(
      `the suite has command checks (${commands.map((c) => JSON.stringify(c.name)).join(', ')}), which run programs on the worker, and this worker does not allow them: start the worker with ${allowCommandChecksVariable}=1 to run them, or use job checks, which run in the region's cluster`,
    );
  }
  const environment = checkEnvironment(release, region);
  const secrets = context.secrets ?? [];
  const results: CheckResult[] = [];
  for (const check of checks) {
    context.onProgress?.(`check ${check.name}`);
    switch (check.kind) {
      case 'http':
        results.push(await runHttpCheck(region.endpoint, check));
        break;
      case 'command':
        results.push(
          await runCommandCheck(check, environment, {
            workerEnv: context.workerEnv,
            secrets: context.secrets,
            signal: context.signal,
          }),
        );
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
  const scrubbed = results.map((r) =>
    r.failure === undefined ? r : { ...r, failure: scrubSecrets(r.failure, secrets) },
  );
  return { endpoint: region.endpoint, passed: results.every((r) => r.passed), results: scrubbed };
}
