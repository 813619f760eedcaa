import {
  CancellationScope,
  TemporalFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  deliveryWorkflowId,
  eventIdOf,
  type CallbackEvent,
  type CallbackPlan,
  type DeliveryInput,
  type FinalStatus,
} from '../domain/callbacks';
import { dialectView } from '../domain/transaction-dialects';
import type { ProcessingState, Transaction } from '../domain/transaction';
import { deliverEvent } from './deliver-event';

/**
 * Announces the transaction's final status to each callback URL: one `deliverEvent` child workflow per
 * endpoint, abandoned, so that the run closes now with its outcome while the deliveries retry on their own.
 * Without URLs it does nothing, and adds no command: runs without callbacks replay as before.
 */
export async function announce(
  plan: CallbackPlan | undefined,
  transaction: Transaction,
  state: ProcessingState,
): Promise<void> {
  if (!plan || plan.urls.length === 0) return;
  const event = eventOf(plan, transaction, state);
  // Awaiting each start: the run must not close before Temporal has recorded its children. Not cancellable: a
  // run cancelled from outside (handle.cancel) still announces that it ended cancelled.
  await CancellationScope.nonCancellable(() =>
    Promise.all(
      plan.urls.map(async (url, endpoint) => {
        const input: DeliveryInput = { event, url, endpoint, policy: plan.policy };
        try {
          await startChild(deliverEvent, {
            workflowId: deliveryWorkflowId(transaction.id, event.id, endpoint),
            args: [input],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            // A reset run announcing the same event again: it was (or is being) delivered already.
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            memo: { delivery: input },
            staticSummary: `${event.type} → ${hostOf(url)}`,
          });
        } catch (err) {
          if (!alreadyStarted(err)) throw err;
        }
      }),
    ),
  );
}

/** The error startChild rejects with for a taken ID (its class is not exported by @temporalio/workflow). */
const alreadyStarted = (err: unknown) =>
  err instanceof TemporalFailure && err.name === 'WorkflowExecutionAlreadyStartedError';

/** The event, deterministic: its ID from the run chain and the status (eventIdOf), its time the workflow's. */
function eventOf(plan: CallbackPlan, transaction: Transaction, state: ProcessingState): CallbackEvent {
  const now = new Date().toISOString();
  const status = state.status as FinalStatus;
  const view = {
    transaction,
    status,
    attempts: state.attempts,
    lastError: state.lastError,
    outcome: state.outcome,
    submittedAt: plan.submittedAt,
    // A failed transaction has no completion time of its own: the API shows the run's close time, i.e. now.
    completedAt: state.completedAt ?? now,
    ...(state.phase && { phase: state.phase }),
  };
  return {
    id: eventIdOf(workflowInfo().firstExecutionRunId, status),
    type: `transaction.${status}`,
    created_at: now,
    data: dialectView(plan.dialect, view),
  };
}

/** The URL's host for the Web UI (never its path or query, which may carry a receiver's token). */
export function hostOf(url: string): string {
  const match = /^[a-z]+:\/\/([^/?#]+)/i.exec(url);
  return match?.[1]?.replace(/^.*@/, '') ?? url;
}
