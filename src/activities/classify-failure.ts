import { ApplicationFailure } from '@temporalio/common';
import { MeridianError, MissingPrerequisiteError } from '../domain/errors';

/**
 * Errors a retry cannot fix (bad input, a rollout that failed) fail at once; anything else (a cluster
 * that did not answer, a worker without helm) is retried by the activity's retry policy. A missing tool
 * is the worker's fault, not the release's: another worker, or this one once fixed, can do the work.
 */
function classify(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof MissingPrerequisiteError) return ApplicationFailure.retryable(err.message, 'MissingPrerequisite');
  if (err instanceof MeridianError && err.exitCode === 2)
    return ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
  const code = (err as { code?: number }).code;
  if (
    typeof code === 'number' &&
    code >= 400 &&
    code < 500 &&
    code !== 404 &&
    code !== 408 &&
    code !== 409 &&
    code !== 429
  ) {
    const body = (err as { body?: unknown }).body;
    const detail = typeof body === 'string' ? body : JSON.stringify(body ?? '');
    return ApplicationFailure.nonRetryable(
      `the cluster refused the request (${code}): ${extractMessage(detail)}`,
      'ClusterRefused',
    );
  }
  return err;
}

function extractMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body.slice(0, 500);
  }
}

/** Runs an activity's work, turning what it throws into a failure Temporal retries or not. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classify(err);
  }
}
