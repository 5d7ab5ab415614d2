import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { InvalidInputError } from '../domain/errors';
import type { ReleaseStatus } from '../domain/release-status';
import type { CommandContext } from './command';
import { formatStatus } from './status-view';
import { connectClient } from './temporal';

/**
 * Sends an operator update to a running release and prints the status it answers with. A refusal
 * (the workflow's validator said no) or an unknown release is invalid input, with the reason.
 */
export async function sendReleaseUpdate<Request>(
  ctx: CommandContext,
  action: string,
  releaseId: string,
  update: UpdateDefinition<ReleaseStatus, [Request]>,
  request: Request,
  json: boolean | undefined,
): Promise<number> {
  const { client, close } = await connectClient(ctx.env);
  try {
    const status = await client.workflow.getHandle(releaseId).executeUpdate(update, { args: [request] });
    ctx.out(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new InvalidInputError(`${action} refused: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError || /not found|already completed/i.test((err as Error).message)) {
      throw new InvalidInputError(`${action}: no running release with id ${releaseId} (${(err as Error).message})`);
    }
    throw err;
  } finally {
    await close();
  }
}
