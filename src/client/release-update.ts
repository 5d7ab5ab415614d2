import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { InvalidInputError } from '../domain/errors';
import { type OperatorMessage, operatorMessageFields, readOperatorRequest } from '../domain/operator-requests';
import type { ReleaseStatus } from '../domain/release-status';
import type { CommandContext } from './command';
import { formatStatus } from './status-view';
import { connectClient } from './temporal';

/** Where each field of an operator request comes from on the command line. */
const fieldSources: Record<string, string> = {
  by: 'MERIDIAN_OPERATOR (or your user@host)',
  reason: '--reason',
  gate: '--gate',
  region: 'the region',
  toWave: '--to-wave',
  wave: '--wave',
};

/**
 * Checks an operator request the way the release will read it, before anything is sent: a signal the
 * workflow refuses changes nothing and answers nobody, so the CLI must refuse it first (exit 2).
 */
export function checkOperatorRequest(action: string, message: string, request: unknown): void {
  if (!Object.hasOwn(operatorMessageFields, message)) return;
  const read = readOperatorRequest(message as OperatorMessage, request);
  if (read.ok) return;
  const field = /^[a-z-]+: ([A-Za-z]+):/.exec(read.refused)?.[1];
  const source = field ? fieldSources[field] : undefined;
  throw new InvalidInputError(
    `${action}: ${read.refused.replace(/^[a-z-]+: /, '')}${source ? ` (from ${source})` : ''}; nothing was sent`,
  );
}

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
  checkOperatorRequest(action, update.name, request);
  const { client, close } = await connectClient(ctx.env);
  try {
    const status = await client.workflow.getHandle(releaseId).executeUpdate(update, { args: [request] });
    ctx.out(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new InvalidInputError(`${action} refused: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError || /not found|already completed/i.test((err as Error).message)) {
      throw new InvalidInputError(`${action}: no running release with id ${releaseId} (${(err as Error).message})`);
    }
    throw err;
  } finally {
    await close();
  }
}
