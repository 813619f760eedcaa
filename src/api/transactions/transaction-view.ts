import type { Transaction, TransactionStatus } from '../../domain/transaction';
import type { Dialect } from '../../domain/transaction-dialects';

// The views are the domain's (the workflow builds a callback event's `data` with them).
export type { ListedView, TransactionView } from '../../domain/transaction-dialects';

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
