import { ApplicationFailure, defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { DeliveryInput, DeliveryResult, DeliveryState } from '../../domain/callbacks';

// Pure: what Temporal holds of delivery runs (listing, description, result) as the API's delivery log.

type Execution = temporal.api.workflow.v1.IWorkflowExecutionInfo;
const Status = temporal.api.enums.v1.WorkflowExecutionStatus;
const SCHEDULED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;

/** One event to one endpoint, as GET /api/transactions/:id/events shows it. */
export interface DeliveryView {
  endpoint: number;
  /** The client's own callback_url, or one of the operator's subscribers (CALLBACK_SUBSCRIBER_URLS). */
  target: 'callback_url' | 'subscriber';
  /** The client's callback_url; null for a subscriber, whose address is the operator's, not the client's. */
  url: string | null;
  state: DeliveryState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  /** While delivering and waiting between attempts: when the next one starts. */
  next_attempt_at: string | null;
}

export interface EventView {
  id: string;
  type: string;
  created_at: string;
  deliveries: DeliveryView[];
}

/** A delivery run found in visibility: its workflow ID, run, input (from its memo) and whether it runs. */
export interface DeliveryRun {
  workflowId: string;
  runId: string;
  input: DeliveryInput;
  running: boolean;
  startedAt: number;
}

/** The newest run of each delivery workflow ID (a redelivery is a new run under the same ID). */
export function latestRuns(executions: readonly Execution[]): DeliveryRun[] {
  const latest = new Map<string, DeliveryRun>();
  for (const execution of executions) {
    const memo = mapFromPayloads(defaultPayloadConverter, execution.memo?.fields) as
      { delivery?: DeliveryInput } | undefined;
    const workflowId = execution.execution?.workflowId;
    if (!memo?.delivery || !workflowId) continue;
    const run: DeliveryRun = {
      workflowId,
      runId: execution.execution?.runId ?? '',
      input: memo.delivery,
      running: execution.status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
      startedAt: millis(execution.startTime),
    };
    const known = latest.get(workflowId);
    if (!known || known.startedAt < run.startedAt) latest.set(workflowId, run);
  }
  return [...latest.values()];
}

/** A running delivery from its description's pending activity (attempts, last failure, next try). */
export function runningDelivery(
  input: DeliveryInput,
  pending: temporal.api.workflow.v1.IPendingActivityInfo | undefined,
): DeliveryView {
  const attempt = pending?.attempt ?? 0;
  const waiting = pending?.state === SCHEDULED;
  return {
    ...base(input),
    state: 'delivering',
    // An attempt scheduled but not started has not been made yet.
    attempts: Math.max(attempt - (waiting ? 1 : 0), 0),
    last_status: statusOf(pending?.lastFailure?.applicationFailureInfo?.details),
    last_error: pending?.lastFailure?.message ?? null,
    next_attempt_at:
      waiting && pending?.nextAttemptScheduleTime
        ? new Date(millis(pending.nextAttemptScheduleTime)).toISOString()
        : null,
  };
}

/** A closed delivery from its result, or its failure's details. */
export function closedDelivery(input: DeliveryInput, outcome: DeliveryResult | Error): DeliveryView {
  const result =
    outcome instanceof Error
      ? ((outcome.cause instanceof ApplicationFailure
          ? (outcome.cause.details?.[0] as DeliveryResult | undefined)
          : undefined) ?? {
          state: 'gave_up' as const,
          attempts: 0,
          lastStatus: null,
          lastError: outcome.cause instanceof Error ? outcome.cause.message : outcome.message,
        })
      : outcome;
  return {
    ...base(input),
    state: result.state,
    attempts: result.attempts,
    last_status: result.lastStatus,
    last_error: result.lastError,
    next_attempt_at: null,
  };
}

/** Deliveries grouped by event, events oldest first, endpoints in order. */
export function groupByEvent(deliveries: { input: DeliveryInput; view: DeliveryView }[]): EventView[] {
  const events = new Map<string, EventView>();
  for (const { input, view } of deliveries) {
    const { id, type, created_at } = input.event;
    const event = events.get(id) ?? { id, type, created_at, deliveries: [] };
    event.deliveries.push(view);
    events.set(id, event);
  }
  const sorted = [...events.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  for (const event of sorted) event.deliveries.sort((a, b) => a.endpoint - b.endpoint);
  return sorted;
}

const base = (input: DeliveryInput) => ({
  endpoint: input.endpoint,
  target: 'callback_url' as DeliveryView['target'],
  url: input.url as string | null,
});

/** Whether a delivery goes to the transaction's own callback_url: always endpoint 0 when there is one. */
export function isClientEndpoint(
  delivery: { endpoint: number; url: string | null },
  clientUrl: string | undefined,
): boolean {
  return clientUrl !== undefined && delivery.endpoint === 0 && delivery.url === clientUrl;
}

/**
 * A delivery as a client sees it: its own callback_url in full; an operator's subscriber without its address,
 * and without the error text, which can name internal hosts and ports (the Web UI's delivery run has both).
 */
export function asSeenByClient(view: DeliveryView, clientUrl: string | undefined): DeliveryView {
  if (isClientEndpoint(view, clientUrl)) return view;
  const lastError = view.last_error === null ? null : 'the subscriber did not take it (details: Web UI)';
  return { ...view, target: 'subscriber', url: null, last_error: lastError };
}

function statusOf(details: temporal.api.common.v1.IPayloads | null | undefined): number | null {
  const payload = details?.payloads?.[0];
  if (!payload) return null;
  const report = defaultPayloadConverter.fromPayload(payload) as { status?: unknown } | undefined;
  return typeof report?.status === 'number' ? report.status : null;
}

function millis(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return time ? Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6) : 0;
}
