import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { OperatorRequest } from './definitions';

/** A stop-the-line freeze of one app, as its holder workflow records it. */
export interface FreezeState {
  app: string;
  by: string;
  reason?: string;
  /** When it began (ISO). */
  at: string;
  /** Releases of the app the freeze paused when it began. */
  paused: string[];
  lifted?: OperatorRequest & { at: string };
}

export const freezeStatusQuery = defineQuery<FreezeState>('freeze-status');
export const liftSignal = defineSignal<[OperatorRequest?]>('lift');
/** A release of the frozen app started anyway (e.g. with the temporal CLI): it paused itself, and unfreeze resumes it. */
export const releaseStartedSignal = defineSignal<[{ releaseId: string }]>('release-started');

/** Workflow id of an app's freeze: one at a time per app. */
export function freezeIdOf(app: string): string {
  return `freeze-${app}`;
}

/**
 * Holds a freeze of an app until an operator lifts it: while it runs, `meridian start` refuses new
 * releases of the app. Pausing the running releases and resuming them is the CLI's; this only remembers.
 */
export async function freezeWorkflow(input: FreezeState): Promise<FreezeState> {
  const state: FreezeState = { ...input };
  setHandler(freezeStatusQuery, () => state);
  setHandler(releaseStartedSignal, ({ releaseId }) => {
    if (!state.paused.includes(releaseId)) state.paused.push(releaseId);
  });
  setHandler(liftSignal, (request) => {
    state.lifted ??= { ...request, at: new Date(Date.now()).toISOString() };
  });
  await condition(() => state.lifted !== undefined);
  return state;
}
