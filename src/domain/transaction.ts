import type { RetryPolicy } from '@temporalio/common';
import type { CallbackPlan } from './callbacks';
import type { TxPhase } from './phase';

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

/**
 * One activity's limits in Temporal's own terms, durations in milliseconds so that the workflow input stays plain
 * JSON. No `retry.maximumAttempts` means no limit but the deadline.
 */
export interface ActivityPolicy {
  /** Limit of one attempt. */
  startToCloseTimeout: number;
  retry: RetryPolicy;
}

/** Retry and deadline rules for one transaction; carried in the workflow input so replays see them. */
export interface ProcessingPolicy {
  check: ActivityPolicy;
  post: ActivityPolicy;
  /** Total time from start after which no new attempt is made and the transaction fails. */
  deadlineMs: number;
  /**
   * How long after a POST whose outcome is unknown its write may still land at the posting service. Until it has
   * passed nothing is posted again and nothing is declared failed.
   */
  writeSettleMs: number;
  /**
   * Try the first check once as a local activity: in the worker that runs the workflow task, recorded as a
   * marker, without an activity task of its own; what gets no answer, or is deferred to a posting rate cap, goes
   * on as the check activity (docs/decisions/0023). CHECK_LOCALLY, default true.
   */
  checkLocally?: boolean;
  /**
   * After a first check answered locally, send the first POST from the same workflow task as a local activity:
   * a fault-free transaction then takes one workflow task and no activity task. Only in a run's first workflow
   * task on its first try; whatever does not end it goes on as the post activity (docs/decisions/0026).
   * POST_LOCALLY, default true (decision 0026).
   */
  postLocally?: boolean;
  /**
   * The early looks in the write-settle window as local activities, in the workflow task their timer wakes
   * (docs/decisions/0027); with a posting rate cap in force a look goes through the task queue. Set with
   * checkLocally; runs started before this field existed look through the task queue, and replay so.
   */
  looksLocally?: boolean;
}

/**
 * What a local POST is told by the workflow task that asks for it (docs/decisions/0026): it sends nothing when
 * this task may be a second try of one that already asked (`replaying`), or after `sendBy`, past which it might
 * not end before Temporal could hand the run to another worker.
 */
export interface LocalPostGuard {
  /** The latest time to send, by the worker's clock (the check's scheduled time plus a margin), ms since the epoch. */
  sendBy: number;
  /** The workflow code made this request on replay: an earlier try of this task may have sent the POST. */
  replaying: boolean;
}

/**
 * What the first check's local try is told, and echoes back in its result or failure (`LocalCheckEcho`, recorded in
 * its marker, so that the run decides on it the same way on replay): whether the workflow code asked for it on
 * replay, and the history's length then (3: the first try of the run's first workflow task). Decision 0026.
 */
export interface LocalCheckGuard {
  replaying: boolean;
  historyLength: number;
}

/** A local check's echo of its guard: the first POST may be local only when `firstTry && !replayed`. */
export interface LocalCheckEcho {
  replayed: boolean;
  firstTry: boolean;
  /**
   * When the check was scheduled, by its worker's clock (ms since the epoch): just after its workflow task
   * started there, the start of the time the local POST must end within.
   */
  scheduledAt: number;
}

export interface ProcessTransactionInput {
  transaction: Transaction;
  policy: ProcessingPolicy;
  /** Where the final status is announced (callbacks); absent in runs without any. */
  callbacks?: CallbackPlan;
}

/** The workflow's own view of its progress, returned by the status query and as its result. */
export interface ProcessingState {
  status: TransactionStatus;
  /** Downstream calls of the activities that have ended (check-exists and post, each retry counted). */
  attempts: number;
  lastError: string | null;
  outcome: PostingOutcome | null;
  completedAt: string | null;
  /** Where the run is (TxPhase); absent in runs recorded before phases were kept. */
  phase?: TxPhase;
  /** What kind of failure lastError is (a PostingErrorKind, or `deadline`); memo `lastErrorKind`. */
  lastErrorKind?: string;
  /**
   * The ID of the activity the workflow waits for, whose attempts are not in `attempts` yet (absent between
   * calls): a reader adds that activity's attempt from the server's record only if its ID is this one.
   */
  pendingActivityId?: string;
}

/** What an activity reports back besides its answer: which attempt succeeded. */
export interface AttemptReport {
  attempt: number;
}
