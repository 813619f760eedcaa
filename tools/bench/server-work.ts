// What the server does per workflow, read from histories: events, workflow and activity tasks, search-attribute
// upserts (each also a visibility write, beside the start's and the close's). The bench samples closed runs of
// each side after its end-to-end step; with the server CPU per workflow, the cost a design asks of the server.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;

export interface ServerWork {
  /** Runs whose histories were read. */
  sampled: number;
  /** Means per run. */
  events: number;
  workflowTasks: number;
  activityTasks: number;
  timers: number;
  upserts: number;
  /** The start, each upsert and the close: visibility records written. */
  visibilityWrites: number;
}

const COUNTED = {
  workflowTasks: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  activityTasks: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  timers: EventType.EVENT_TYPE_TIMER_STARTED,
  upserts: EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
} as const;

/** Mean server work of up to `sample` closed runs matching `query`. */
export async function serverWork(client: Client, query: string, sample = 20): Promise<ServerWork> {
  const totals = { events: 0, workflowTasks: 0, activityTasks: 0, timers: 0, upserts: 0 };
  let sampled = 0;
  for await (const run of client.workflow.list({ query, pageSize: sample })) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const events = history.events ?? [];
    totals.events += events.length;
    for (const [name, type] of Object.entries(COUNTED)) {
      totals[name as keyof typeof COUNTED] += events.filter((e) => e.eventType === type).length;
    }
    if (++sampled >= sample) break;
  }
  const mean = (n: number) => (sampled === 0 ? 0 : Math.round((n / sampled) * 10) / 10);
  return {
    sampled,
    events: mean(totals.events),
    workflowTasks: mean(totals.workflowTasks),
    activityTasks: mean(totals.activityTasks),
    timers: mean(totals.timers),
    upserts: mean(totals.upserts),
    visibilityWrites: mean(totals.upserts + 2 * sampled),
  };
}
