import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  TX_AMOUNT,
  TX_CURRENCY,
  TX_DESTINATION_ACCOUNT,
  TX_SOURCE_ACCOUNT,
  TX_STATUS,
} from '../../domain/search-attributes';
import type { ProcessingPolicy, ProcessingState, TransactionStatus } from '../../domain/transaction';
import { cancelUpdate, processTransaction, statusQuery } from '../../workflows';
import type { ListFilters } from './list-cursor';
import { listedStatus, visibilityQuery } from './list-query';
import type { Submission } from './submission';
import { isTerminal, type ListedView, type TransactionMemo, type TransactionView } from './transaction-view';
import { asStartFailure, asTemporalUnavailable } from '../temporal/temporal-errors';
import { RecentCache } from './recent-cache';

export type SubmitResult =
  /** `eagerlyStarted`: the server handed the run's first task straight to this process's worker. */
  | { kind: 'accepted'; view: TransactionView; eagerlyStarted: boolean }
  | { kind: 'duplicate'; view: TransactionView }
  | { kind: 'conflict' };

export type RetryResult =
  | { kind: 'not_found' }
  | { kind: 'started'; view: TransactionView; eagerlyStarted: boolean }
  /** Not failed: still running, completed or cancelled (Temporal refuses the start as well). */
  | { kind: 'conflict'; view: TransactionView };

export type CancelResult =
  | { kind: 'not_found' }
  /** The workflow accepted the cancellation: it never posts. */
  | { kind: 'cancelled'; view: TransactionView }
  /** No worker answered in time: cancellation requested; the workflow honours it if it has not posted. */
  | { kind: 'requested'; view: TransactionView }
  /** The POST may have been sent, or the transaction is already final. */
  | { kind: 'too_late'; view: TransactionView };

export interface ListPage {
  items: ListedView[];
  /** Temporal's token for the next page; null on the last page. */
  nextPageToken: Uint8Array | null;
}

/** Temporal refused a page token (a forged or stale cursor). */
export class PageTokenRefusedError extends Error {
  override name = 'PageTokenRefusedError';
}

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;

export interface TransactionsServiceDeps {
  client: Client;
  taskQueue: string;
  policy: ProcessingPolicy;
  /** How long to wait for a worker to answer the status query. */
  queryDeadlineMs: number;
  /** Limit of one call to Temporal. */
  rpcTimeoutMs: number;
  /**
   * Ask the server to hand a new run's first workflow task straight back in the start response, to a worker in
   * this process on the same NativeConnection (the all-in-one process); it skips the matching service.
   */
  eagerStart?: boolean;
}

export interface Found {
  view: TransactionView;
  /** Fingerprint of the body the transaction was first submitted with. */
  fingerprint: string;
}

const CACHE_ENTRIES = 10_000;
// Far below any namespace retention (a day at least): a cached ID never outlives its run on the server.
const CACHE_MAX_AGE_MS = 60 * 60_000;

/** The API's side of Temporal: one workflow per transaction, the transaction ID as its workflow ID. */
export class TransactionsService {
  // Completed runs never change (Temporal refuses to start a completed transaction again), so their view is
  // kept instead of fetching their result again. Failed ones are not kept: a retry or reset re-runs them.
  private readonly finalViews = new RecentCache<string, Found>(CACHE_ENTRIES, CACHE_MAX_AGE_MS);
  // IDs this process lately found taken (it started them, or answered a duplicate): a submission of one of them
  // is most likely a client's resend, best answered without the start Temporal would refuse.
  private readonly takenIds = new RecentCache<string, true>(CACHE_ENTRIES, CACHE_MAX_AGE_MS);

  constructor(private readonly deps: TransactionsServiceDeps) {}

  /** Starts the transaction's workflow; answers once Temporal has durably recorded the start. */
  async submit(submission: Submission): Promise<SubmitResult> {
    const { transaction, fingerprint, submittedAt } = submission;
    // Whatever holds the ID already, the start below would be refused (REJECT_DUPLICATE, conflict policy
    // FAIL), so looking first answers the same; it only saves a call when the ID is likely taken.
    if (this.finalViews.has(transaction.id) || this.takenIds.has(transaction.id)) {
      const existing = await this.get(transaction.id, { askWorker: false });
      if (existing) return this.existingResult(existing, submission);
    }
    const memo: TransactionMemo = { transaction, fingerprint, submittedAt };
    try {
      const handle = await this.rpc(() =>
        this.deps.client.workflow.start(
          processTransaction,
          // A finished transaction is never run again by a resubmission.
          this.startOptions(memo, WorkflowIdReusePolicy.REJECT_DUPLICATE),
        ),
      );
      this.takenIds.set(transaction.id, true);
      return { kind: 'accepted', view: pendingView(memo), eagerlyStarted: handle.eagerlyStarted };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asStartFailure(err, transaction.id);
    }
    const existing = await this.get(transaction.id, { askWorker: false });
    if (!existing) return { kind: 'conflict' };
    this.takenIds.set(transaction.id, true);
    return this.existingResult(existing, submission);
  }

  /**
   * The ID is taken: by this very submission (a retry), by a different one, or by a workflow that is not a
   * transaction at all (get() finds none). Only the first is a duplicate. Its answer is what the server holds,
   * without asking a worker: clients resending under load must not add work for the workers, nor wait on a
   * busy one. A memo from before timestamps were compared as instants may hold the legacy fingerprint.
   */
  private existingResult(existing: Found, { fingerprint, legacyFingerprint }: Submission): SubmitResult {
    return existing.fingerprint === fingerprint || existing.fingerprint === legacyFingerprint
      ? { kind: 'duplicate', view: existing.view }
      : { kind: 'conflict' };
  }

  /**
   * Runs a failed transaction again: a new run under the same workflow ID with the same transaction (from the
   * failed run's memo) and the API's current policy. Temporal itself refuses it unless the last run failed
   * (ALLOW_DUPLICATE_FAILED_ONLY), so a completed, cancelled or running one is never started twice; and the
   * new run, like every run, looks downstream before it posts.
   */
  async retry(id: string): Promise<RetryResult> {
    const described = await this.describe(id);
    if (!described) return { kind: 'not_found' };
    if (
      described.description.status.name === 'RUNNING' ||
      described.description.status.name === 'COMPLETED'
    ) {
      return { kind: 'conflict', view: await this.viewOf(described.description, described.memo) };
    }
    const memo: TransactionMemo = {
      transaction: described.memo.transaction,
      fingerprint: described.memo.fingerprint,
      submittedAt: described.memo.submittedAt,
    };
    const startDelay = this.retryDelayMs(described.description);
    let eagerlyStarted: boolean;
    try {
      ({ eagerlyStarted } = await this.rpc(() =>
        this.deps.client.workflow.start(processTransaction, {
          ...this.startOptions(memo, WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY),
          ...(startDelay > 0 && { startDelay }),
        }),
      ));
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asStartFailure(err, id);
      // Another retry won the race, or the run is not failed after all.
      const current = await this.get(id);
      return current ? { kind: 'conflict', view: current.view } : { kind: 'not_found' };
    }
    this.finalViews.delete(id);
    return { kind: 'started', view: pendingView(memo), eagerlyStarted };
  }

  /**
   * Cancels a transaction that has not been posted. The workflow decides, atomically with its decision to
   * post, through its `cancel` update: accepted means it never posts; refused means the POST may have been
   * sent (or it is final), and it runs to its true outcome. When no worker takes the update in time, a plain
   * cancellation request is left with Temporal instead; the workflow applies the same rule when it runs.
   */
  async cancel(id: string): Promise<CancelResult> {
    const described = await this.describe(id);
    if (!described) return { kind: 'not_found' };
    const { description, memo } = described;
    if (description.status.name !== 'RUNNING') {
      const view = await this.viewOf(description, memo);
      return { kind: view.status === 'cancelled' ? 'cancelled' : 'too_late', view };
    }
    const handle = this.deps.client.workflow.getHandle(id, description.runId);
    try {
      const state = await this.rpc(() => handle.executeUpdate(cancelUpdate, { updateId: 'cancel' }));
      const view = { ...pendingView(memo), ...state };
      return { kind: state.status === 'cancelled' ? 'cancelled' : 'too_late', view };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        // Refused by the validator (too late), or a run from before cancellation support (no such update).
        return { kind: 'too_late', view: await this.currentView(id) };
      }
      if (err instanceof WorkflowNotFoundError) {
        // The run closed meanwhile.
        const view = await this.currentView(id);
        return { kind: view.status === 'cancelled' ? 'cancelled' : 'too_late', view };
      }
      if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw asTemporalUnavailable(err);
    }
    try {
      await this.rpc(() => handle.cancel());
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw asTemporalUnavailable(err);
    }
    const view = await this.currentView(id);
    return { kind: view.status === 'cancelled' ? 'cancelled' : 'requested', view };
  }

  /**
   * One page of transactions from Temporal visibility (eventually consistent), newest first as Temporal orders
   * them; each item from its memo and search attributes, with no call per item.
   */
  async list(filters: ListFilters, pageSize: number, pageToken?: Uint8Array): Promise<ListPage> {
    const query = visibilityQuery(this.deps.taskQueue, filters);
    const listPage = (size: number, token?: Uint8Array) =>
      this.rpc(() =>
        this.deps.client.workflowService.listWorkflowExecutions({
          namespace: this.deps.client.options.namespace,
          query,
          pageSize: size,
          nextPageToken: token,
        }),
      );
    let response: temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse;
    try {
      response = await listPage(pageSize, pageToken);
    } catch (err) {
      // The SQL visibility store answers an unreadable page token with UNKNOWN, not INVALID_ARGUMENT: when the
      // same listing works without the token, the token (the client's cursor) was the problem.
      if (
        pageToken &&
        (await listPage(1).then(
          () => true,
          () => false,
        ))
      ) {
        throw new PageTokenRefusedError(err instanceof Error ? err.message : String(err));
      }
      throw asTemporalUnavailable(err);
    }
    const items: ListedView[] = [];
    for (const execution of response.executions) {
      const item = listedView(execution);
      if (item) items.push(item);
    }
    const token = response.nextPageToken;
    return { items, nextPageToken: token && token.length > 0 ? token : null };
  }

  /**
   * The transaction's current view, or null when there is no such transaction. A running one's view comes from
   * the worker's status query unless `askWorker` is false: then from the server's record alone (its TxStatus
   * search attribute and pending activity).
   */
  async get(id: string, { askWorker = true } = {}): Promise<Found | null> {
    const cached = this.finalViews.get(id);
    if (cached) return cached;
    const described = await this.describe(id);
    if (!described) return null;
    const { description, memo } = described;
    return { view: await this.viewOf(description, memo, askWorker), fingerprint: memo.fingerprint };
  }

  private viewOf(
    description: WorkflowExecutionDescription,
    memo: TransactionMemo,
    askWorker = true,
  ): Promise<TransactionView> {
    return description.status.name === 'RUNNING'
      ? this.runningView(description, memo, askWorker)
      : this.closedView(description, memo);
  }

  private async currentView(id: string): Promise<TransactionView> {
    const found = await this.get(id);
    if (!found) throw new Error(`transaction ${id} vanished`);
    return found.view;
  }

  /**
   * A run that failed by its own rule has looked after its last POST. One that was terminated, timed out or
   * cancelled from outside may have left a POST in flight (its activity can outlive it by an attempt) whose
   * write lands within the settle window: the new run starts only once both have passed.
   */
  private retryDelayMs(description: { status: { name: string }; closeTime?: Date }): number {
    if (description.status.name === 'FAILED' || !description.closeTime) return 0;
    const { post, writeSettleMs = 0 } = this.deps.policy;
    return Math.max(0, description.closeTime.getTime() + post.attemptTimeoutMs + writeSettleMs - Date.now());
  }

  private startOptions(memo: TransactionMemo, workflowIdReusePolicy: WorkflowIdReusePolicy) {
    const { transaction } = memo;
    return {
      workflowId: transaction.id,
      taskQueue: this.deps.taskQueue,
      args: [{ transaction, policy: this.deps.policy }],
      workflowIdReusePolicy,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      memo: { ...memo },
      typedSearchAttributes: [
        { key: TX_STATUS, value: 'pending' },
        { key: TX_AMOUNT, value: Number(transaction.amount) },
        { key: TX_CURRENCY, value: transaction.currency },
        ...(transaction.sourceAccount ? [{ key: TX_SOURCE_ACCOUNT, value: transaction.sourceAccount }] : []),
        ...(transaction.destinationAccount
          ? [{ key: TX_DESTINATION_ACCOUNT, value: transaction.destinationAccount }]
          : []),
      ],
      staticSummary: summary(memo),
      staticDetails: details(memo),
      ...(this.deps.eagerStart && { requestEagerStart: true }),
    } satisfies WorkflowStartOptions<typeof processTransaction>;
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
    askWorker: boolean,
  ): Promise<TransactionView> {
    const pending = description.raw.pendingActivities?.[0];
    const inFlight = {
      attempts: pending?.attempt ?? 0,
      lastError: pending?.lastFailure?.message ?? null,
    };
    let state: ProcessingState | undefined;
    if (askWorker) {
      try {
        state = await this.deps.client.connection.withDeadline(Date.now() + this.deps.queryDeadlineMs, () =>
          this.deps.client.workflow.getHandle(memo.transaction.id).query(statusQuery),
        );
      } catch {
        state = undefined; // No worker answered in time: fall back to what the server knows.
      }
    }
    const status: TransactionStatus =
      state?.status ??
      (description.typedSearchAttributes.get(TX_STATUS) as TransactionStatus | undefined) ??
      'pending';
    // The query answers after describe(): a final state has counted the call describe() saw in flight. While
    // the run goes on, a call that ended between the two is still counted twice; the final count is exact.
    const stillInFlight = state && isTerminal(state.status) ? { attempts: 0, lastError: null } : inFlight;
    return {
      ...pendingView(memo),
      status,
      attempts: (state?.attempts ?? 0) + stillInFlight.attempts,
      lastError: stillInFlight.lastError ?? state?.lastError ?? null,
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
    if (description.status.name === 'COMPLETED')
      this.finalViews.set(id, { view, fingerprint: memo.fingerprint });
    return view;
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.client.connection.withDeadline(Date.now() + this.deps.rpcTimeoutMs, fn);
  }
}

/** A listed run as a view; null for a run that is not a transaction (no memo). */
function listedView(execution: temporal.api.workflow.v1.IWorkflowExecutionInfo): ListedView | null {
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
