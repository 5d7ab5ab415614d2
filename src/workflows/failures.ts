import type { OperatorRequest } from './definitions';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure } from '@temporalio/workflow';

/** The message a person needs from a failure: the innermost cause, not the wrapping layers. */
export function describeFailure(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  if (current instanceof ApplicationFailure || current instanceof TemporalFailure) return current.message;
  return current instanceof Error ? current.message : String(current);
}

/** How an abort reads in statuses and errors: `aborted by alice: customer escalation`. */
export function describeAbort(request: OperatorRequest): string {
  return `aborted${request.by ? ` by ${request.by}` : ''}${request.reason ? `: ${request.reason}` : ''}`;
}
