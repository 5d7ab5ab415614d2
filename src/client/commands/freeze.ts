import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { pauseSignal, resumeSignal, statusQuery, taskQueue } from '../../workflows/definitions';
import {
  type FreezeState,
  freezeIdOf,
  type freezeWorkflow,
  releaseStartedSignal,
} from '../../workflows/freeze-workflow';
import { appKey, releasesQuery } from '../../workflows/search-attributes';
import { printable, UsageError } from '../cli-errors';
import { checkOperatorRequest } from '../release-update';
import type { CommandContext } from '../command';
import { connectClient, operatorName } from '../temporal';

/** Ids of the app's releases that run now. */
async function runningReleases(client: Client, app: string): Promise<string[]> {
  const query = releasesQuery({ app, executionStatus: 'Running' });
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

/** The releases among `ids` that are not paused now; one whose status cannot be read (no worker) counts as not paused. */
async function notPaused(client: Client, ids: string[]): Promise<string[]> {
  // A query needs a worker: with none, give up after a few seconds rather than hold the line open.
  const pausedNow = (id: string) =>
    client.withDeadline(Date.now() + 3_000, () => client.workflow.getHandle(id).query(statusQuery));
  const paused = await Promise.all(
    ids.map((id) =>
      pausedNow(id).then(
        (s) => s.paused,
        () => false,
      ),
    ),
  );
  return ids.filter((_, i) => !paused[i]);
}

/**
 * The releases a freeze paused: those running when it began (its memo) and those started while it held,
 * which told it by signal (its history). Read without a worker, like everything about freezes.
 */
async function pausedByFreeze(
  handle: WorkflowHandle,
  converter: LoadedDataConverter,
  unreadable: (why: string) => void,
): Promise<string[]> {
  const memo = ((await handle.describe()).memo?.paused as string[] | undefined) ?? [];
  const signaled = await releasesSignaled((await handle.fetchHistory()).events ?? [], converter, unreadable);
  return [...new Set([...memo, ...signaled])];
}

/**
 * The release ids that release-started signals in a freeze's history carry, read with the client's
 * data converter: its codecs (MERIDIAN_CODEC_KEYS: the payload is ciphertext then) decode first, the
 * last one first as the SDK does, then its payload converter. A payload that cannot be read (a key
 * this CLI lacks, an encoding it does not know) is reported through `unreadable` with why; a value not
 * of the signal's shape names no release.
 */
export async function releasesSignaled(
  events: readonly temporal.api.history.v1.IHistoryEvent[],
  converter: LoadedDataConverter,
  unreadable: (why: string) => void,
): Promise<string[]> {
  const ids: string[] = [];
  for (const event of events) {
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName !== releaseStartedSignal.name) continue;
    const payload = signaled.input?.payloads?.[0];
    if (!payload) continue;
    try {
      let payloads: Payload[] = [payload];
      for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
      const value = converter.payloadConverter.fromPayload<{ releaseId?: unknown } | null>(payloads[0]);
      if (typeof value?.releaseId === 'string') ids.push(value.releaseId);
    } catch (err) {
      unreadable(
        String((err as Error)?.message ?? err)
          .split('\n')[0]
          .slice(0, 200),
      );
    }
  }
  return ids;
}

/** The options of freeze and unfreeze. */
export interface FreezeOptions {
  app?: string;
  reason?: string;
}

function appOption(command: string, app: string | undefined): string {
  if (!app) throw new UsageError(`missing --app NAME: the app to ${command}`);
  return app;
}

/** The freeze an app is under, if any. */
export async function activeFreeze(
  client: Client,
  app: string,
): Promise<{ by?: string; reason?: string; at?: string } | undefined> {
  try {
    const held = await client.workflow.getHandle(freezeIdOf(app)).describe();
    if (held.status.name !== 'RUNNING') return undefined;
    return held.memo as { by?: string; reason?: string; at?: string };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * `meridian freeze --app A [--reason R]`: stops the line. Every running release of the app pauses
 * before its next step, and `meridian start` refuses new ones until `meridian unfreeze`. Signals, so a
 * freeze holds even while no worker runs. Freezing a frozen app pauses what started since, nothing else.
 */
export async function freezeCommand(values: FreezeOptions, _args: string[], ctx: CommandContext): Promise<number> {
  const app = appOption('freeze', values.app);
  const by = operatorName(ctx.env);
  const request = { by, reason: `freeze of ${app}${values.reason ? `: ${values.reason}` : ''}` };
  // Checked before anything starts: the releases would refuse this pause, and the freeze would hold none of them.
  checkOperatorRequest('freeze', pauseSignal.name, request);
  checkOperatorRequest('freeze', resumeSignal.name, {
    by,
    reason: `freeze of ${app} lifted${values.reason ? `: ${values.reason}` : ''}`,
  });
  const { client, close } = await connectClient(ctx.env);
  try {
    // A release an operator had paused already stays paused when the freeze lifts: the freeze leaves it out.
    const releases = await notPaused(client, await runningReleases(client, app));
    const at = new Date().toISOString();
    const state: FreezeState = { app, by, reason: values.reason, at, paused: releases };
    try {
      await client.workflow.start<typeof freezeWorkflow>('freezeWorkflow', {
        workflowId: freezeIdOf(app),
        taskQueue,
        args: [state],
        memo: { by, reason: values.reason ?? '', at, paused: releases },
        typedSearchAttributes: [{ key: appKey, value: app }],
      });
      ctx.out(`froze ${app}${values.reason ? `: ${values.reason}` : ''}\n`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const held = await activeFreeze(client, app);
      ctx.out(
        `${app} is already frozen${held?.by ? ` by ${held.by}` : ''}${held?.at ? ` since ${held.at}` : ''}${held?.reason ? `: ${held.reason}` : ''}\n`,
      );
    }
    for (const id of releases) {
      await client.workflow.getHandle(id).signal(pauseSignal, request);
      ctx.out(`paused ${id}\n`);
    }
    return 0;
  } finally {
    await close();
  }
}

/** `meridian unfreeze --app A [--reason R]`: lifts the freeze and resumes the releases it paused. */
export async function unfreezeCommand(values: FreezeOptions, _args: string[], ctx: CommandContext): Promise<number> {
  const app = appOption('unfreeze', values.app);
  const by = operatorName(ctx.env);
  checkOperatorRequest('unfreeze', resumeSignal.name, {
    by,
    reason: `freeze of ${app} lifted${values.reason ? `: ${values.reason}` : ''}`,
  });
  const { client, close } = await connectClient(ctx.env);
  try {
    const handle = client.workflow.getHandle(freezeIdOf(app));
    const held = await activeFreeze(client, app);
    if (!held) {
      ctx.out(`${app} is not frozen\n`);
      return 0;
    }
    // Ended here rather than by signal, so that lifting needs no worker; the reason is in its history.
    // Ended first, then read: a release that tells the freeze after this finds none and does not pause.
    await handle.terminate(`lifted by ${by}${values.reason ? `: ${values.reason}` : ''}`);
    const paused = await pausedByFreeze(handle, client.options.loadedDataConverter, (why) =>
      ctx.err(
        `warning: a release-started signal of the freeze could not be read (${printable(why)}): a release started during the freeze may stay paused; \`meridian list --app ${app} --phase Paused\` finds it\n`,
      ),
    );
    ctx.out(`lifted the freeze of ${app}\n`);
    const running = new Set(await runningReleases(client, app));
    for (const id of paused.filter((p) => running.has(p))) {
      await client.workflow
        .getHandle(id)
        .signal(resumeSignal, { by, reason: `freeze of ${app} lifted${values.reason ? `: ${values.reason}` : ''}` });
      ctx.out(`resumed ${id}\n`);
    }
    return 0;
  } finally {
    await close();
  }
}
