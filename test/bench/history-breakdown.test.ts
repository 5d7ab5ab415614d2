import type { temporal } from '@temporalio/proto';
import { latencyBreakdown } from '../../src/bench/history-breakdown';

/** An event at `ms` after the epoch, with one kind of attributes (ids and seconds as plain numbers, as JSON histories hold them). */
const at = (eventId: number, ms: number, attributes: Record<string, unknown>) =>
  ({
    eventId,
    eventTime: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
    ...attributes,
  }) as unknown as temporal.api.history.v1.IHistoryEvent;

describe('latencyBreakdown', () => {
  it('splits a workflow into queued and running workflow tasks, queued and running activities, timers and the rest', () => {
    const events = [
      at(1, 1000, { workflowExecutionStartedEventAttributes: {} }),
      at(2, 1002, { workflowTaskScheduledEventAttributes: {} }),
      at(3, 1012, { workflowTaskStartedEventAttributes: { scheduledEventId: 2 } }),
      at(4, 1020, { workflowTaskCompletedEventAttributes: { startedEventId: 3 } }),
      at(5, 1020, { markerRecordedEventAttributes: { markerName: 'core_patch' } }),
      at(6, 1020, { markerRecordedEventAttributes: { markerName: 'core_local_activity' } }),
      at(7, 1020, { activityTaskScheduledEventAttributes: {} }),
      at(8, 1025, { activityTaskStartedEventAttributes: { scheduledEventId: 7 } }),
      at(9, 1125, { activityTaskCompletedEventAttributes: { scheduledEventId: 7 } }),
      at(10, 1125, { workflowTaskScheduledEventAttributes: {} }),
      at(11, 1130, { workflowTaskStartedEventAttributes: { scheduledEventId: 10 } }),
      at(12, 1136, { workflowTaskCompletedEventAttributes: { startedEventId: 11 } }),
      at(13, 1136, { timerStartedEventAttributes: {} }),
      at(14, 1336, { timerFiredEventAttributes: { startedEventId: 13 } }),
      at(15, 1336, { workflowTaskScheduledEventAttributes: {} }),
      at(16, 1340, { workflowTaskStartedEventAttributes: { scheduledEventId: 15 } }),
      at(17, 1343, { workflowTaskCompletedEventAttributes: { startedEventId: 16 } }),
      at(18, 1350, { workflowExecutionCompletedEventAttributes: {} }),
    ];
    const b = latencyBreakdown(events);
    expect(b).toEqual({
      wallMs: 350,
      activityRunMs: 100,
      orchestrationMs: 250,
      workflowTaskQueueMs: 10 + 5 + 4,
      workflowTaskRunMs: 8 + 6 + 3,
      activityQueueMs: 5,
      timerMs: 200,
      otherMs: 250 - (19 + 17 + 5 + 200),
      workflowTasks: 3,
      activities: 1,
      localActivities: 1,
      events: 18,
    });
  });

  it('counts a failed or timed-out attempt as activity time too, and an empty history as nothing', () => {
    const b = latencyBreakdown([
      at(1, 0, { activityTaskScheduledEventAttributes: {} }),
      at(2, 10, { activityTaskStartedEventAttributes: { scheduledEventId: 1 } }),
      at(3, 60, { activityTaskTimedOutEventAttributes: { scheduledEventId: 1 } }),
    ]);
    expect(b).toMatchObject({ wallMs: 60, activityRunMs: 50, activityQueueMs: 10, orchestrationMs: 10, otherMs: 0 });
    expect(latencyBreakdown([])).toMatchObject({ wallMs: 0, orchestrationMs: 0, events: 0 });
  });
});
