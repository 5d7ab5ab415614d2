import { type Client, WorkflowNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { InvalidInputError, UnreachableError } from '../domain/errors';
import type { ReleaseStatus } from '../domain/release-status';
import { regionStatusQuery, statusQuery } from '../workflows/definitions';

/**
 * The status of a release, running or ended, with each running region's step read from the region's
 * own workflow. An unknown id is invalid input.
 */
export async function queryStatus(client: Client, releaseId: string): Promise<ReleaseStatus> {
  let status: ReleaseStatus;
  try {
    status = await client.workflow.getHandle(releaseId).query(statusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || /not found/i.test((err as Error).message)) {
      throw new InvalidInputError(`no release with id ${releaseId}: see \`meridian list\``);
    }
    // A query needs a worker; a release that has ended carries its final status without one.
    const ended = await endedStatus(client, releaseId);
    if (ended) return ended;
    // Running, and its status query went unanswered: no worker polls its task queue now (or none could
    // decode it). The release itself is safe: it waits durably for a worker.
    const said = (
      (err as { cause?: { details?: string }; details?: string; message?: string }).cause?.details ??
      (err as Error).message ??
      String(err)
    )
      .split('\n')[0]
      .slice(0, 200);
    throw new UnreachableError(
      `release ${releaseId} is running but its status query went unanswered (${said}): start a worker (\`meridian worker\`) with the same Temporal settings and codec keys; the release waits for one`,
    );
  }
  const regions = await Promise.all(
    status.regions.map(async (region) => {
      if (region.phase !== 'Running' || !region.workflowId) return region;
      try {
        return {
          ...(await client.workflow.getHandle(region.workflowId).query(regionStatusQuery)),
          workflowId: region.workflowId,
        };
      } catch {
        return region; // it just ended, or is not yet queryable: the release's own view will do
      }
    }),
  );
  return { ...status, regions };
}

/** Waits for a release to end: its final status, and whether it succeeded. */
export async function awaitRelease(
  client: Client,
  releaseId: string,
): Promise<{ status: ReleaseStatus; succeeded: boolean }> {
  const handle = client.workflow.getHandle(releaseId);
  try {
    return { status: (await handle.result()) as ReleaseStatus, succeeded: true };
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
      const details = err.cause.details?.[0] as ReleaseStatus | undefined;
      if (details) return { status: details, succeeded: false };
    }
    return { status: await queryStatus(client, releaseId), succeeded: false };
  }
}

/** The final status of a release that has ended (its result, or its failure's details); undefined while it runs. */
async function endedStatus(client: Client, releaseId: string): Promise<ReleaseStatus | undefined> {
  const handle = client.workflow.getHandle(releaseId);
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') return undefined;
  try {
    return (await handle.result()) as ReleaseStatus;
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure)
      return err.cause.details?.[0] as ReleaseStatus | undefined;
    return undefined;
  }
}
