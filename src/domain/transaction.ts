/** What txflow knows of a payment; amounts are canonical decimal strings, never floats. */
export interface Transaction {
  id: string;
  amount: string;
  currency: string;
  description: string | null;
  /** When the payment happened, as the client said (ISO 8601), else when txflow accepted it. */
  timestamp: string;
  metadata: Record<string, unknown> | null;
  sourceAccount: string | null;
  destinationAccount: string | null;
}

export const TRANSACTION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `cancelled`: stopped on request before anything was posted; final, like `completed` and `failed`.
 */
export const TRANSACTION_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/** How the transaction reached the downstream: posted by us, or found there already. */
export type PostingOutcome = 'posted' | 'already_present';

export interface RetrySettings {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0 means no limit other than the deadline. */
  maximumAttempts: number;
  /** Limit of one attempt (activity start-to-close). */
  attemptTimeoutMs: number;
}

/** Retry and deadline rules for one transaction; carried in the workflow input so replays see them. */
export interface ProcessingPolicy {
  check: RetrySettings;
  post: RetrySettings;
  /** Total time from start after which no new attempt is made and the transaction fails. */
  deadlineMs: number;
  /**
   * How long after a POST whose outcome is unknown its write may still land at the posting service. Until it has
   * passed nothing is posted again and nothing is declared failed. Absent in runs started before it existed.
   */
  writeSettleMs?: number;
}

export interface ProcessTransactionInput {
  transaction: Transaction;
  policy: ProcessingPolicy;
}

/** The workflow's own view of its progress, returned by the status query and as its result. */
export interface ProcessingState {
  status: TransactionStatus;
  /** Downstream attempts finished so far (check-exists and post, each retry counted). */
  attempts: number;
  lastError: string | null;
  outcome: PostingOutcome | null;
  completedAt: string | null;
}

/** What an activity reports back besides its answer: which attempt succeeded. */
export interface AttemptReport {
  attempt: number;
}
