import type { PostingOutcome, Transaction, TransactionStatus } from './transaction';
import { PAUSED_REASON, type TxPhase } from './phase';

// Pure: the two dialects' JSON views of a transaction. In src/domain so that the workflow can build a callback
// event's `data` exactly as the API shows the transaction.

/** Everything the API can say about one transaction, before a dialect shapes it. */
export interface TransactionView {
  transaction: Transaction;
  status: TransactionStatus;
  attempts: number;
  lastError: string | null;
  outcome: PostingOutcome | null;
  submittedAt: string;
  completedAt: string | null;
  /** Where the run is (the workflow's answer); absent before its first answer and in older runs. */
  phase?: TxPhase;
}

/**
 * A transaction as a listing shows it: built from the memo and search attributes alone, so without what
 * only the run's result holds (attempts, lastError, outcome).
 */
export type ListedView = Pick<TransactionView, 'transaction' | 'status' | 'submittedAt' | 'completedAt'>;

/** The API's two ways of writing a transaction: `/api/transactions` and the webhook dialect (`/v1`). */
export type Dialect = 'api' | 'v1';

/** `/api/transactions` dialect, as a listing shows it (no attempts, lastError or outcome). */
export function apiListItem(v: ListedView) {
  const t = v.transaction;
  return {
    transactionId: t.id,
    status: v.status,
    amount: t.amount,
    currency: t.currency,
    description: t.description,
    sourceAccount: t.sourceAccount,
    destinationAccount: t.destinationAccount,
    timestamp: t.timestamp,
    metadata: t.metadata,
    submittedAt: v.submittedAt,
    completedAt: v.completedAt,
  };
}

/** `/api/transactions` dialect. */
export function apiView(v: TransactionView) {
  const { submittedAt, completedAt, ...item } = apiListItem(v);
  return {
    ...item,
    attempts: v.attempts,
    lastError: v.lastError,
    outcome: v.outcome,
    phase: v.phase ?? null,
    pausedReason: pausedReason(v),
    submittedAt,
    completedAt,
  };
}

// The webhook dialect keeps its three statuses: a cancelled transaction was not processed, so FAILED.
const V1_STATUS: Record<TransactionStatus, 'PROCESSING' | 'PROCESSED' | 'FAILED'> = {
  pending: 'PROCESSING',
  processing: 'PROCESSING',
  completed: 'PROCESSED',
  failed: 'FAILED',
  cancelled: 'FAILED',
};

/** `/v1/transactions` dialect (webhook senders). */
export function v1View(v: TransactionView) {
  const { id, sourceAccount, destinationAccount, amount, currency } = v.transaction;
  return {
    transaction_id: id,
    source_account: sourceAccount,
    destination_account: destinationAccount,
    amount,
    currency,
    status: V1_STATUS[v.status],
    created_at: v.submittedAt,
    processed_at: v.completedAt,
    phase: v.phase ?? null,
    paused_reason: pausedReason(v),
  };
}

/** Why a transaction still `processing` is not trying: its worker's circuit breaker is open. */
export function pausedReason(v: { phase?: string | null; status: TransactionStatus }): string | null {
  return v.phase === 'paused' && v.status === 'processing' ? PAUSED_REASON : null;
}

/** The transaction in `dialect`. */
export function dialectView(dialect: Dialect, v: TransactionView) {
  return dialect === 'v1' ? v1View(v) : apiView(v);
}
