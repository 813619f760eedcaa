// Where a transaction's workflow is, as the TxPhase search attribute, the status query and GET views show it.
// These exact strings are what operators and the API's filters use.
export const TX_PHASES = [
  'checking',
  'posting',
  'waiting_to_retry',
  'final_check',
  'paused',
  'done',
] as const;
export type TxPhase = (typeof TX_PHASES)[number];

/**
 * The failure type of an activity that did not call the downstream because this worker's circuit breaker is
 * open: no attempt was made, the workflow pauses and tries again (see docs/reliability.md, "Circuit breaker").
 */
export const DOWNSTREAM_UNHEALTHY = 'DownstreamUnhealthy';

/**
 * The failure type of a local check (policy.checkLocally) that made no call because a posting rate cap is in
 * force, which Temporal applies to activity tasks only: the check goes on as an activity task, under the cap.
 */
export const CHECK_DEFERRED = 'CheckDeferredToCap';

/**
 * The failure type of a local POST that sent nothing because an earlier try of its workflow task may have sent it
 * (decision 0026): the workflow treats it as a POST of unknown outcome.
 */
export const LOCAL_POST_NOT_SENT = 'LocalPostNotSent';

/** What shows why a transaction is paused, in run details and GET views. */
export const PAUSED_REASON = 'downstream unhealthy';

/** The details of a DownstreamUnhealthy failure. */
export interface PauseReport {
  /** Downstream calls this activity made before the breaker stopped it (its earlier attempts). */
  attempt: number;
  status: null;
  /** When the breaker's next probe is due, from now. */
  retryAfterMs: number;
  /** One probe per this many ms while the breaker is open. */
  probeIntervalMs: number;
  /** The last downstream failure this worker's breaker saw, and its PostingErrorKind (null: none). */
  lastFailure: string | null;
  lastFailureKind: string | null;
  /** The longest pause between tries (consecutive pauses double up to it). */
  maxPauseMs: number;
}
