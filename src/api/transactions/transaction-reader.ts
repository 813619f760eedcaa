import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { TX_STATUS } from '../../domain/search-attributes';
import type { ProcessingState, TransactionStatus } from '../../domain/transaction';
import { type processTransaction, statusQuery } from '../../workflows';
import { asTemporalUnavailable } from '../temporal/temporal-errors';
import { RecentCache } from './recent-cache';
import type { TransactionMemo, TransactionView } from './transaction-view';
import { closedView, failedState, pendingCalls, runningView } from './view-mappers';

export interface Found {
  view: TransactionView;
  /** Fingerprint of the body the transaction was first submitted with. */
  fingerprint: string;
}

export interface TransactionReaderDeps {
  client: Client;
  /** How long to wait for a worker to answer the status query. */
  queryDeadlineMs: number;
  /** Limit of one call to Temporal. */
  rpcTimeoutMs: number;
}

export const CACHE_ENTRIES = 10_000;
// Far below any namespace retention (a day at least): a cached ID never outlives its run on the server.
export const CACHE_MAX_AGE_MS = 60 * 60_000;

/** One call to Temporal, limited to `rpcTimeoutMs`. */
export const callTemporal = <T>(
  deps: Pick<TransactionReaderDeps, 'client' | 'rpcTimeoutMs'>,
  fn: () => Promise<T>,
) => deps.client.connection.withDeadline(Date.now() + deps.rpcTimeoutMs, fn);

/** Reads transactions from Temporal: a run's description, its status query or its result, as a view. */
export class TransactionReader {
  // Completed runs never change (Temporal refuses to start a completed transaction again), so their view is
  // kept instead of fetching their result again. Failed ones are not kept: a retry or reset re-runs them.
  private readonly finalViews = new RecentCache<string, Found>(CACHE_ENTRIES, CACHE_MAX_AGE_MS);

  constructor(private readonly deps: TransactionReaderDeps) {}

  /** Whether `id` is a completed transaction this process has read lately. */
  knownFinal(id: string): boolean {
    return this.finalViews.has(id);
  }

  /** Drops the kept view of `id`: a new run has started. */
  forget(id: string): void {
    this.finalViews.delete(id);
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

  /** The transaction's workflow as the server describes it, with its memo; null when it is no transaction. */
  async describe(id: string) {
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

  /** The view of a described run: running, from the worker or the server; closed, from its result. */
  viewOf(
    description: WorkflowExecutionDescription,
    memo: TransactionMemo,
    askWorker = true,
  ): Promise<TransactionView> {
    return description.status.name === 'RUNNING'
      ? this.runningView(description, memo, askWorker)
      : this.closedView(description, memo);
  }

  /** The view of a transaction known to exist. */
  async currentView(id: string): Promise<TransactionView> {
    const found = await this.get(id);
    if (!found) throw new Error(`transaction ${id} vanished`);
    return found.view;
  }

  /** Running: the worker's answer to the status query; without a worker in time, what describe() shows. */
  private async runningView(
    description: WorkflowExecutionDescription,
    memo: TransactionMemo,
    askWorker: boolean,
  ): Promise<TransactionView> {
    const pending = description.raw.pendingActivities?.[0];
    const record = {
      status: description.typedSearchAttributes.get(TX_STATUS) as TransactionStatus | undefined,
      activityId: pending?.activityId ?? undefined,
      attempt: pendingCalls(pending),
      lastFailure: pending?.lastFailure?.message ?? null,
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
    return runningView(memo, record, state);
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
    const view = closedView(memo, state, description.closeTime);
    if (description.status.name === 'COMPLETED')
      this.finalViews.set(id, { view, fingerprint: memo.fingerprint });
    return view;
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return callTemporal(this.deps, fn);
  }
}
