import type { PostingOutcome, Transaction, TransactionStatus } from '../../domain/transaction';
import type { Dialect } from '../../domain/transaction-dialects';

/** Everything the API can say about one transaction, before a dialect shapes it. */
export interface TransactionView {
  transaction: Transaction;
  status: TransactionStatus;
  attempts: number;
  lastError: string | null;
  outcome: PostingOutcome | null;
  submittedAt: string;
  completedAt: string | null;
}

/**
 * A transaction as a listing shows it: built from the memo and search attributes alone, so without what
 * only the run's result holds (attempts, lastError, outcome).
 */
export type ListedView = Pick<TransactionView, 'transaction' | 'status' | 'submittedAt' | 'completedAt'>;

/** What the API keeps with each workflow (its memo), readable without a worker. */
export interface TransactionMemo {
  transaction: Transaction;
  fingerprint: string;
  submittedAt: string;
  /** The client's callback_url and the submission's dialect; absent in runs from before callbacks. */
  callbackUrl?: string;
  dialect?: Dialect;
}

export const isTerminal = (status: TransactionStatus) =>
  status === 'completed' || status === 'failed' || status === 'cancelled';
