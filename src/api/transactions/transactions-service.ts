import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { ProcessingPolicy } from '../../domain/transaction';
import { cancelUpdate, processTransaction } from '../../workflows';
import { asStartFailure, asTemporalUnavailable } from '../temporal/temporal-errors';
import type { ListFilters } from './list-cursor';
import { visibilityQuery } from './list-query';
import { listedOps, type ListedOps } from './listed-ops';
import { RecentCache } from './recent-cache';
import { retryDelayMs, startOptions, type CallbackStartSettings } from './start-options';
import type { Submission } from './submission';
import {
  CACHE_ENTRIES,
  CACHE_MAX_AGE_MS,
  callTemporal,
  TransactionReader,
  type Found,
} from './transaction-reader';
import type { ListedView, TransactionMemo, TransactionView } from './transaction-view';
import { listedView, pendingView } from './view-mappers';

export type { Found } from './transaction-reader';

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
  items: (ListedView & ListedOps)[];
  /** Temporal's token for the next page; null on the last page. */
  nextPageToken: Uint8Array | null;
}

/** Temporal refused a page token (a forged or stale cursor). */
export class PageTokenRefusedError extends Error {
  override name = 'PageTokenRefusedError';
}

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
  /** CALLBACK_*: the subscribers and retry policy given to each new run (start-options.ts). */
  callbacks?: CallbackStartSettings;
}

/**
 * The API's operations on transactions in Temporal: one workflow per transaction, the transaction ID as its
 * workflow ID. Start options are in start-options.ts, reading a run as a view in transaction-reader.ts.
 */
export class TransactionsService {
  // IDs this process lately found taken (it started them, or answered a duplicate): a submission of one of them
  // is most likely a client's resend, best answered without the start Temporal would refuse.
  private readonly takenIds = new RecentCache<string, true>(CACHE_ENTRIES, CACHE_MAX_AGE_MS);

  private readonly reader: TransactionReader;

  constructor(private readonly deps: TransactionsServiceDeps) {
    this.reader = new TransactionReader(deps);
  }

  /** Starts the transaction's workflow; answers once Temporal has durably recorded the start. */
  async submit(submission: Submission): Promise<SubmitResult> {
    const { transaction, fingerprint, submittedAt } = submission;
    // Whatever holds the ID already, the start below would be refused (REJECT_DUPLICATE, conflict policy
    // FAIL), so looking first answers the same; it only saves a call when the ID is likely taken.
    if (this.reader.knownFinal(transaction.id) || this.takenIds.has(transaction.id)) {
      const existing = await this.get(transaction.id, { askWorker: false });
      if (existing) return this.existingResult(existing, submission);
    }
    const memo: TransactionMemo = { transaction, fingerprint, submittedAt, ...callbackFields(submission) };
    try {
      const handle = await this.rpc(() =>
        this.deps.client.workflow.start(
          processTransaction,
          // A finished transaction is never run again by a resubmission.
          startOptions(memo, this.deps, WorkflowIdReusePolicy.REJECT_DUPLICATE),
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
    const described = await this.reader.describe(id);
    if (!described) return { kind: 'not_found' };
    if (
      described.description.status.name === 'RUNNING' ||
      described.description.status.name === 'COMPLETED'
    ) {
      return { kind: 'conflict', view: await this.reader.viewOf(described.description, described.memo) };
    }
    const memo: TransactionMemo = {
      transaction: described.memo.transaction,
      fingerprint: described.memo.fingerprint,
      submittedAt: described.memo.submittedAt,
      ...callbackFields(described.memo),
    };
    const startDelay = retryDelayMs(described.description, this.deps.policy);
    let eagerlyStarted: boolean;
    try {
      ({ eagerlyStarted } = await this.rpc(() =>
        this.deps.client.workflow.start(processTransaction, {
          ...startOptions(memo, this.deps, WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY),
          ...(startDelay > 0 && { startDelay }),
        }),
      ));
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asStartFailure(err, id);
      // Another retry won the race, or the run is not failed after all.
      const current = await this.get(id);
      return current ? { kind: 'conflict', view: current.view } : { kind: 'not_found' };
    }
    this.reader.forget(id);
    return { kind: 'started', view: pendingView(memo), eagerlyStarted };
  }

  /**
   * Cancels a transaction that has not been posted. The workflow decides, atomically with its decision to
   * post, through its `cancel` update: accepted means it never posts; refused means the POST may have been
   * sent (or it is final), and it runs to its true outcome. When no worker takes the update in time, a plain
   * cancellation request is left with Temporal instead; the workflow applies the same rule when it runs.
   */
  async cancel(id: string): Promise<CancelResult> {
    const described = await this.reader.describe(id);
    if (!described) return { kind: 'not_found' };
    const { description, memo } = described;
    if (description.status.name !== 'RUNNING') {
      const view = await this.reader.viewOf(description, memo);
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
        return { kind: 'too_late', view: await this.reader.currentView(id) };
      }
      if (err instanceof WorkflowNotFoundError) {
        // The run closed meanwhile.
        const view = await this.reader.currentView(id);
        return { kind: view.status === 'cancelled' ? 'cancelled' : 'too_late', view };
      }
      if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw asTemporalUnavailable(err);
    }
    try {
      await this.rpc(() => handle.cancel());
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw asTemporalUnavailable(err);
    }
    const view = await this.reader.currentView(id);
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
    const items: ListPage['items'] = [];
    for (const execution of response.executions) {
      const item = listedView(execution);
      if (item) items.push({ ...item, ...listedOps(execution) });
    }
    const token = response.nextPageToken;
    return { items, nextPageToken: token && token.length > 0 ? token : null };
  }

  /** The Temporal client it calls through (waits long-poll on it). */
  get client(): Client {
    return this.deps.client;
  }

  /** The task queue its transactions run on, and its limit of one call to Temporal (the admin routes'). */
  get taskQueue(): string {
    return this.deps.taskQueue;
  }

  get rpcTimeoutMs(): number {
    return this.deps.rpcTimeoutMs;
  }

  /** The transaction's current view (see TransactionReader.get), or null when there is no such transaction. */
  get(id: string, options?: { askWorker?: boolean }): Promise<Found | null> {
    return this.reader.get(id, options);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return callTemporal(this.deps, fn);
  }
}

/** The memo's callback fields, only when there are any: memos without callbacks stay as they were. */
function callbackFields({ callbackUrl, dialect }: Pick<TransactionMemo, 'callbackUrl' | 'dialect'>) {
  return {
    ...(callbackUrl !== undefined && { callbackUrl }),
    ...(dialect !== undefined && dialect !== 'api' && { dialect }),
  };
}
