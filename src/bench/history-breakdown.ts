/**
 * Where a workflow's own latency goes, read from its history: every workflow task and activity has a
 * scheduled, a started and a closing event, so its wait in the task queue and its run are apart. What a
 * region's orchestration costs is its wall time minus its activities' run time; this splits that into
 * the parts the issue asks to see.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One workflow's latency by part, in ms. */
export interface LatencyBreakdown {
  /** First event to last. */
  wallMs: number;
  /** Activities running (started to closed): the work itself, not orchestration. */
  activityRunMs: number;
  /** wallMs - activityRunMs. */
  orchestrationMs: number;
  /** Workflow tasks waiting in their task queue for a worker (scheduled to started). */
  workflowTaskQueueMs: number;
  /** Workflow tasks on the worker, up to the server recording their completion (started to completed). */
  workflowTaskRunMs: number;
  /** Activities waiting in their task queue (scheduled to started); 0 for an activity started eagerly. */
  activityQueueMs: number;
  /** Durable timers (started to fired). */
  timerMs: number;
  /** The rest: between one part's end and the next's start (server bookkeeping, a retry's backoff). */
  otherMs: number;
  /** Workflow tasks the workflow took. */
  workflowTasks: number;
  /** Activities it scheduled. */
  activities: number;
  /** Local activities it ran (their run time is inside `workflowTaskRunMs`: a marker records no start). */
  localActivities: number;
  /** Events in its history. */
  events: number;
}

/** The marker a local activity's result is recorded in (patches record markers too). */
const localActivityMarker = 'core_local_activity';

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Splits one workflow's history into the parts of its latency. */
export function latencyBreakdown(events: readonly HistoryEvent[]): LatencyBreakdown {
  const at = new Map<string, number>();
  for (const e of events) at.set(String(e.eventId), millis(e.eventTime));
  const since = (scheduledEventId: unknown, now: number) => now - (at.get(String(scheduledEventId)) ?? now);
  const activityStarted = new Map<string, number>();
  const parts = {
    activityRunMs: 0,
    workflowTaskQueueMs: 0,
    workflowTaskRunMs: 0,
    activityQueueMs: 0,
    timerMs: 0,
    workflowTasks: 0,
    activities: 0,
    localActivities: 0,
  };
  const timerStarted = new Map<string, number>();
  for (const e of events) {
    const now = millis(e.eventTime);
    if (e.workflowTaskScheduledEventAttributes) parts.workflowTasks++;
    else if (e.workflowTaskStartedEventAttributes)
      parts.workflowTaskQueueMs += since(e.workflowTaskStartedEventAttributes.scheduledEventId, now);
    else if (e.workflowTaskCompletedEventAttributes)
      parts.workflowTaskRunMs += since(e.workflowTaskCompletedEventAttributes.startedEventId, now);
    else if (e.activityTaskScheduledEventAttributes) parts.activities++;
    else if (e.activityTaskStartedEventAttributes) {
      const scheduled = String(e.activityTaskStartedEventAttributes.scheduledEventId);
      activityStarted.set(scheduled, now);
      parts.activityQueueMs += since(scheduled, now);
    } else if (e.markerRecordedEventAttributes?.markerName === localActivityMarker) parts.localActivities++;
    else if (e.timerStartedEventAttributes) timerStarted.set(String(e.eventId), now);
    else if (e.timerFiredEventAttributes)
      parts.timerMs += now - (timerStarted.get(String(e.timerFiredEventAttributes.startedEventId)) ?? now);
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed?.scheduledEventId != null)
      parts.activityRunMs += now - (activityStarted.get(String(closed.scheduledEventId)) ?? now);
  }
  const wallMs = events.length > 0 ? millis(events[events.length - 1].eventTime) - millis(events[0].eventTime) : 0;
  const orchestrationMs = wallMs - parts.activityRunMs;
  const accounted = parts.workflowTaskQueueMs + parts.workflowTaskRunMs + parts.activityQueueMs + parts.timerMs;
  return {
    wallMs,
    orchestrationMs,
    ...parts,
    otherMs: Math.max(0, orchestrationMs - accounted),
    events: events.length,
  };
}

/** The parts worth printing, in the order they are printed. */
export const breakdownParts = [
  ['workflowTaskQueueMs', 'workflow tasks queued'],
  ['workflowTaskRunMs', 'workflow tasks on the worker'],
  ['activityQueueMs', 'activities queued'],
  ['timerMs', 'timers'],
  ['otherMs', 'other'],
] as const satisfies readonly (readonly [keyof LatencyBreakdown, string])[];
