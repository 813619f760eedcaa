import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;

/** What the server did for a run: its events, the activity tasks by type, the upserts and markers. */
export async function serverWork(handle: WorkflowHandle) {
  const events: Event[] = (await handle.fetchHistory()).events ?? [];
  const activities = events
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((name): name is string => typeof name === 'string');
  return {
    events: events.length,
    activities,
    markers: events.filter((e) => e.markerRecordedEventAttributes).length,
    upserts: events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length,
    workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
    timers: events.filter((e) => e.timerStartedEventAttributes).length,
  };
}
