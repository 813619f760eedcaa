import type { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TX_STATUS } from '../../domain/search-attributes';
import type { ProcessingState, TransactionStatus } from '../../domain/transaction';
import { listedStatus } from './list-query';
import { isTerminal, type ListedView, type TransactionMemo, type TransactionView } from './transaction-view';

// Pure: what Temporal holds of a run (its memo, description, query answer or result) as a view. No call to
// Temporal here, so each case is tested without a server (test/transaction-views.test.ts).

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
const { PENDING_ACTIVITY_STATE_STARTED, PENDING_ACTIVITY_STATE_CANCEL_REQUESTED } =
  temporal.api.enums.v1.PendingActivityState;

/**
 * The downstream calls a pending activity has made so far: with an attempt in flight (started), its attempt
 * number; waiting to be picked up or for its retry's backoff (scheduled), the attempts before the next one. An
 * activity just scheduled has made none.
 */
export function pendingCalls(pending: temporal.api.workflow.v1.IPendingActivityInfo | undefined): number {
  const attempt = pending?.attempt ?? 0;
  const inFlight =
    pending?.state === PENDING_ACTIVITY_STATE_STARTED ||
    pending?.state === PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
  return inFlight ? attempt : Math.max(attempt - 1, 0);
}

/** A transaction just started: what its memo tells. */
export function pendingView(memo: TransactionMemo): TransactionView {
  return {
    transaction: memo.transaction,
    status: 'pending',
    attempts: 0,
    lastError: null,
    outcome: null,
    submittedAt: memo.submittedAt,
    completedAt: null,
  };
}

/** What the server itself records of a running run: its TxStatus search attribute and pending activity. */
export interface ServerRecord {
  status: TransactionStatus | undefined;
  /** The pending activity's ID (check-1, post-n, look-n) and its calls so far (pendingCalls), 0 without one. */
  activityId?: string;
  attempt: number;
  lastFailure: string | null;
}

/**
 * A running transaction: the worker's answer to the status query (`state`), else what the server records. The
 * workflow counts an activity's attempts once it ends; describe()'s pending one is added only while the
 * workflow still waits for that same activity (the query answers after describe(): it may have ended between).
 */
export function runningView(
  memo: TransactionMemo,
  record: ServerRecord,
  state: ProcessingState | undefined,
): TransactionView {
  const counted = state && (isTerminal(state.status) || state.pendingActivityId !== record.activityId);
  const inFlight = counted
    ? { attempt: 0, lastFailure: null }
    : { attempt: record.attempt, lastFailure: record.lastFailure };
  return {
    ...pendingView(memo),
    status: state?.status ?? record.status ?? 'pending',
    attempts: (state?.attempts ?? 0) + inFlight.attempt,
    lastError: inFlight.lastFailure ?? state?.lastError ?? null,
    outcome: state?.outcome ?? null,
    completedAt: state?.completedAt ?? null,
    ...(state?.phase && { phase: state.phase }),
  };
}

/** A closed run, from its final state; completedAt falls back to the run's close time. */
export function closedView(memo: TransactionMemo, state: ProcessingState, closeTime?: Date): TransactionView {
  return {
    ...pendingView(memo),
    ...state,
    completedAt: state.completedAt ?? closeTime?.toISOString() ?? null,
  };
}

/** A failed run carries its final state as the failure's details; a terminated or timed-out one does not. */
export function failedState(
  err: WorkflowFailedError,
  closed: { status: { name: string }; closeTime?: Date },
): ProcessingState {
  const details =
    err.cause instanceof ApplicationFailure
      ? (err.cause.details?.[0] as ProcessingState | undefined)
      : undefined;
  return (
    details ?? {
      status: 'failed',
      attempts: 0,
      lastError: `workflow ${closed.status.name.toLowerCase()}: ${err.cause?.message ?? err.message}`,
      outcome: null,
      completedAt: closed.closeTime?.toISOString() ?? null,
    }
  );
}

/** A listed run as a view; null for a run that is not a transaction (no memo). */
export function listedView(execution: temporal.api.workflow.v1.IWorkflowExecutionInfo): ListedView | null {
  const memo = mapFromPayloads(defaultPayloadConverter, execution.memo?.fields) as
    Partial<TransactionMemo> | undefined;
  if (!memo?.transaction || typeof memo.submittedAt !== 'string') return null;
  const txStatus = execution.searchAttributes?.indexedFields?.[TX_STATUS.name];
  const running = execution.status === RUNNING;
  const closeTime = execution.closeTime?.seconds;
  return {
    transaction: memo.transaction,
    status: listedStatus(txStatus ? defaultPayloadConverter.fromPayload(txStatus) : undefined, running),
    submittedAt: memo.submittedAt,
    completedAt:
      running || closeTime == null
        ? null
        : new Date(
            Number(closeTime) * 1000 + Math.floor((execution.closeTime?.nanos ?? 0) / 1e6),
          ).toISOString(),
  };
}
