import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  TX_AMOUNT,
  TX_CURRENCY,
  TX_DESTINATION_ACCOUNT,
  TX_SOURCE_ACCOUNT,
  TX_STATUS,
} from '../domain/search-attributes';
import type { ProcessingPolicy, ProcessingState, TransactionStatus } from '../domain/transaction';
import { processTransaction, statusQuery } from '../workflows';
import type { Submission } from './submission';
import { isTerminal, type TransactionMemo, type TransactionView } from './transaction-view';
import { asTemporalUnavailable } from './temporal-errors';

export type SubmitResult =
  | { kind: 'accepted'; view: TransactionView }
  | { kind: 'duplicate'; view: TransactionView }
  | { kind: 'conflict' };

export interface TransactionsServiceDeps {
  client: Client;
  taskQueue: string;
  policy: ProcessingPolicy;
  /** How long to wait for a worker to answer the status query. */
  queryDeadlineMs: number;
  /** Limit of one call to Temporal. */
  rpcTimeoutMs: number;
}

export interface Found {
  view: TransactionView;
  /** Fingerprint of the body the transaction was first submitted with. */
  fingerprint: string;
}

const FINAL_VIEW_CACHE = 10_000;

/** The API's side of Temporal: one workflow per transaction, the transaction ID as its workflow ID. */
export class TransactionsService {
  // Closed workflows never change, so their view is kept instead of fetching their result again.
  private readonly finalViews = new Map<string, Found>();

  constructor(private readonly deps: TransactionsServiceDeps) {}

  /** Starts the transaction's workflow; answers once Temporal has durably recorded the start. */
  async submit(submission: Submission): Promise<SubmitResult> {
    const { transaction, fingerprint, submittedAt } = submission;
    const memo: TransactionMemo = { transaction, fingerprint, submittedAt };
    try {
      await this.rpc(() =>
        this.deps.client.workflow.start(processTransaction, {
          workflowId: transaction.id,
          taskQueue: this.deps.taskQueue,
          args: [{ transaction, policy: this.deps.policy }],
          // A finished transaction is never run again by a resubmission.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          memo: { ...memo },
          typedSearchAttributes: [
            { key: TX_STATUS, value: 'pending' },
            { key: TX_AMOUNT, value: Number(transaction.amount) },
            { key: TX_CURRENCY, value: transaction.currency },
            ...(transaction.sourceAccount
              ? [{ key: TX_SOURCE_ACCOUNT, value: transaction.sourceAccount }]
              : []),
            ...(transaction.destinationAccount
              ? [{ key: TX_DESTINATION_ACCOUNT, value: transaction.destinationAccount }]
              : []),
          ],
          staticSummary: summary(memo),
          staticDetails: details(memo),
        }),
      );
      return { kind: 'accepted', view: pendingView(memo) };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asTemporalUnavailable(err);
    }
    // The ID is taken: by this very submission (a retry), by a different one, or by a workflow that is not a
    // transaction at all. Only the first is a duplicate.
    const existing = await this.get(transaction.id);
    return existing?.fingerprint === fingerprint
      ? { kind: 'duplicate', view: existing.view }
      : { kind: 'conflict' };
  }

  /** The transaction's current view, or null when there is no such transaction. */
  async get(id: string): Promise<Found | null> {
    const cached = this.finalViews.get(id);
    if (cached) return cached;
    const described = await this.describe(id);
    if (!described) return null;
    const { description, memo } = described;
    const view =
      description.status.name === 'RUNNING'
        ? await this.runningView(description, memo)
        : await this.closedView(description, memo);
    return { view, fingerprint: memo.fingerprint };
  }

  private async describe(id: string) {
    try {
      const description = await this.rpc(() => this.deps.client.workflow.getHandle(id).describe());
      const memo = description.memo as unknown as TransactionMemo | undefined;
      // A workflow under this ID that txflow did not start is not a transaction.
      if (!memo?.transaction || description.type !== 'processTransaction') return null;
      return { description, memo, fingerprint: memo.fingerprint };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw asTemporalUnavailable(err);
    }
  }

  /** Running: the worker's answer to the status query; without a worker in time, what describe() shows. */
  private async runningView(
    description: WorkflowExecutionDescription,
    memo: TransactionMemo,
  ): Promise<TransactionView> {
    const pending = description.raw.pendingActivities?.[0];
    const inFlight = {
      attempts: pending?.attempt ?? 0,
      lastError: pending?.lastFailure?.message ?? null,
    };
    let state: ProcessingState | undefined;
    try {
      state = await this.deps.client.connection.withDeadline(Date.now() + this.deps.queryDeadlineMs, () =>
        this.deps.client.workflow.getHandle(memo.transaction.id).query(statusQuery),
      );
    } catch {
      state = undefined; // No worker answered in time: fall back to what the server knows.
    }
    const status: TransactionStatus =
      state?.status ??
      (description.typedSearchAttributes.get(TX_STATUS) as TransactionStatus | undefined) ??
      'pending';
    return {
      ...pendingView(memo),
      status,
      attempts: (state?.attempts ?? 0) + inFlight.attempts,
      lastError: inFlight.lastError ?? state?.lastError ?? null,
      outcome: state?.outcome ?? null,
      completedAt: state?.completedAt ?? null,
    };
  }

  private async closedView(
    description: WorkflowExecutionDescription,
    memo: TransactionMemo,
  ): Promise<TransactionView> {
    const id = memo.transaction.id;
    let state: ProcessingState;
    try {
      state = await this.rpc(() =>
        this.deps.client.workflow.getHandle<typeof processTransaction>(id, description.runId).result(),
      );
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw asTemporalUnavailable(err);
      state = failedState(err, description);
    }
    const view: TransactionView = {
      ...pendingView(memo),
      ...state,
      completedAt: state.completedAt ?? description.closeTime?.toISOString() ?? null,
    };
    if (isTerminal(view.status)) this.remember(id, { view, fingerprint: memo.fingerprint });
    return view;
  }

  private remember(id: string, found: Found): void {
    if (this.finalViews.size >= FINAL_VIEW_CACHE) {
      const oldest = this.finalViews.keys().next().value;
      if (oldest !== undefined) this.finalViews.delete(oldest);
    }
    this.finalViews.set(id, found);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.client.connection.withDeadline(Date.now() + this.deps.rpcTimeoutMs, fn);
  }
}

function pendingView(memo: TransactionMemo): TransactionView {
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

/** A failed run carries its final state as the failure's details; a terminated or timed-out one does not. */
function failedState(err: WorkflowFailedError, description: WorkflowExecutionDescription): ProcessingState {
  const details =
    err.cause instanceof ApplicationFailure
      ? (err.cause.details?.[0] as ProcessingState | undefined)
      : undefined;
  return (
    details ?? {
      status: 'failed',
      attempts: 0,
      lastError: `workflow ${description.status.name.toLowerCase()}: ${err.cause?.message ?? err.message}`,
      outcome: null,
      completedAt: description.closeTime?.toISOString() ?? null,
    }
  );
}

/** The run page's description in the Web UI (markdown). */
function details({ transaction: t, submittedAt }: TransactionMemo): string {
  return [
    `**${t.amount} ${t.currency}**${t.description ? ` — ${t.description}` : ''}`,
    `from \`${t.sourceAccount ?? '-'}\` to \`${t.destinationAccount ?? '-'}\``,
    `submitted ${submittedAt}`,
  ].join('\n\n');
}

/** One line for the Web UI's run list, e.g. "150.50 INR acc_a → acc_b". */
function summary({ transaction: t }: TransactionMemo): string {
  const route =
    t.sourceAccount || t.destinationAccount
      ? ` ${t.sourceAccount ?? '?'} → ${t.destinationAccount ?? '?'}`
      : '';
  return `${t.amount} ${t.currency}${route}`;
}
