import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { InvalidInputError } from '../../domain/errors';
import { abortUpdate, approveUpdate, pauseUpdate, resumeUpdate } from '../../workflows/definitions';
import { parseCommandArgs } from '../args';
import type { Command, CommandContext } from '../command';
import { requireReleaseId } from '../options';
import { formatStatus } from '../status-view';
import { connectClient, operatorName } from '../temporal';

const updates = { pause: pauseUpdate, resume: resumeUpdate, approve: approveUpdate, abort: abortUpdate } as const;
type Action = keyof typeof updates;

/**
 * `meridian pause | resume | approve | abort <id> [--reason R] [--gate G]`: sent as workflow updates, so
 * the answer is the release's status after the action, or why it was refused. Each is idempotent.
 */
export function operatorCommand(action: Action): Command {
  return async (argv: string[], ctx: CommandContext) => {
    const usage = `<release-id> [--reason TEXT]${action === 'approve' ? ' [--gate NAME]' : ''}`;
    const { values, positionals } = parseCommandArgs(action, argv, { reason: { type: 'string' }, gate: { type: 'string' }, json: { type: 'boolean' } }, usage);
    const releaseId = requireReleaseId(action, positionals);
    if (values.gate && action !== 'approve') throw new InvalidInputError(`--gate: only approve takes a gate`);
    const request = { by: operatorName(ctx.env), reason: values.reason, ...(values.gate ? { gate: values.gate } : {}) };
    const { client, close } = await connectClient(ctx.env);
    try {
      const status = await client.workflow.getHandle(releaseId).executeUpdate(updates[action], { args: [request] });
      ctx.out(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
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
  };
}
