import { InvalidInputError } from '../../domain/errors';
import { abortUpdate, approveUpdate, pauseUpdate, resumeUpdate } from '../../workflows/definitions';
import { parseCommandArgs } from '../args';
import type { Command, CommandContext } from '../command';
import { requireReleaseId } from '../options';
import { sendReleaseUpdate } from '../release-update';
import { operatorName } from '../temporal';

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
    return sendReleaseUpdate(ctx, action, releaseId, updates[action], request, values.json);
  };
}
