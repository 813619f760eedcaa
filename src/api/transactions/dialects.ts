import type { TransactionStatus } from '../../domain/transaction';
import type { ListedView, TransactionView } from './transaction-view';

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
  };
}
