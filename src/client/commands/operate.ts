import { abortUpdate, approveUpdate, pauseUpdate, resumeUpdate } from '../../workflows/definitions';
import type { Command, CommandContext } from '../command';
import { sendReleaseUpdate } from '../release-update';
import { operatorName } from '../temporal';

const updates = { pause: pauseUpdate, resume: resumeUpdate, approve: approveUpdate, abort: abortUpdate } as const;
type Action = keyof typeof updates;

/** The options of an operator action (`--gate` is approve's only). */
export interface OperatorOptions {
  reason?: string;
  gate?: string;
  json?: boolean;
}

/**
 * `meridian pause | resume | approve | abort <id> [--reason R] [--gate G]`: sent as workflow updates, so
 * the answer is the release's status once the action took effect (a resume after the halt lifted, an
 * approval after the gate opened), or why it was refused. Each is idempotent.
 */
export function operatorCommand(action: Action): Command<OperatorOptions> {
  return async (values: OperatorOptions, [releaseId]: string[], ctx: CommandContext) => {
    const request = { by: operatorName(ctx.env), reason: values.reason, ...(values.gate ? { gate: values.gate } : {}) };
    return sendReleaseUpdate(ctx, action, releaseId, updates[action], request, values.json);
  };
}
