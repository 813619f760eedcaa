import type { Dialect } from './transaction-dialects';
import type { TransactionStatus } from './transaction';

/** The final statuses that are announced, each as one event type. */
export type FinalStatus = Extract<TransactionStatus, 'completed' | 'failed' | 'cancelled'>;
export type CallbackEventType = `transaction.${FinalStatus}`;

/** What a receiver gets, as JSON: the body that is signed. */
export interface CallbackEvent {
  /** Stable across retries and redeliveries: a receiver deduplicates on it (also the Txflow-Event-Id header). */
  id: string;
  type: CallbackEventType;
  /** When the transaction reached its final status (workflow time). */
  created_at: string;
  /** The transaction as the API shows it in the dialect it was submitted in. */
  data: unknown;
}

/** How deliveries are retried; in the workflow input so that replays and the Web UI see the same. */
export interface CallbackPolicy {
  /** How long a delivery is retried in all (the activity's schedule-to-close timeout). */
  windowMs: number;
  /** Limit of one attempt's HTTP request. */
  timeoutMs: number;
  /** First wait between attempts, doubling up to maxIntervalMs. */
  initialIntervalMs: number;
  maxIntervalMs: number;
}

/** Where a transaction's final status is announced; absent or no URLs: nothing is announced. */
export interface CallbackPlan {
  /** The client's callback_url first (if any), then the operator's subscribers. */
  urls: string[];
  dialect: Dialect;
  /** The transaction's submission time, for the view under `data`. */
  submittedAt: string;
  policy: CallbackPolicy;
}

/** The input of one delivery (one event to one endpoint): a `deliverEvent` child workflow. */
export interface DeliveryInput {
  event: CallbackEvent;
  url: string;
  /** Position of the URL in the plan: part of the delivery's workflow ID. */
  endpoint: number;
  policy: CallbackPolicy;
}

export const DELIVERY_STATES = ['delivering', 'delivered', 'gave_up', 'stopped_by_410'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** How a delivery ended: the result of its workflow (and, for `gave_up`, its failure's details). */
export interface DeliveryResult {
  state: Exclude<DeliveryState, 'delivering'>;
  attempts: number;
  /** The last HTTP status answered, null if none (timeout, connection refused). */
  lastStatus: number | null;
  lastError: string | null;
}

/** What the activity reports of its last attempt, as a result or as its failure's details. */
export interface AttemptOutcome {
  attempt: number;
  status: number | null;
}

/** Failure types of the delivery activity; the first two are final. */
export const CALLBACK_FAILURES = {
  gone: 'CallbackGone',
  refused: 'CallbackUrlRefused',
  status: 'CallbackStatus',
  unreachable: 'CallbackUnreachable',
  timeout: 'CallbackTimeout',
  unconfigured: 'CallbackNotConfigured',
} as const;

export const DELIVERY_WORKFLOW_TYPE = 'deliverEvent';

/**
 * An event's ID: one per final status of a run chain. The chain's first run ID, not the run's own: a reset
 * (an operator's re-run of a run's history) keeps it, so a reset that reaches the same status announces the
 * same event, which is then not sent again; a retry through the API starts a new chain, and new events.
 */
export const eventIdOf = (firstExecutionRunId: string, status: FinalStatus) =>
  `evt_${firstExecutionRunId}_${status}`;

/** What `eventIdOf` makes (and the event IDs of earlier versions, `evt_<runId>`). */
export const EVENT_ID_PATTERN = /^evt_[0-9a-f-]{8,64}(_(completed|failed|cancelled))?$/;

/** The workflow ID of one delivery: deterministic, so a redelivery reuses it and a listing finds it by prefix. */
export const deliveryWorkflowId = (transactionId: string, eventId: string, endpoint: number) =>
  `${deliveryPrefix(transactionId)}${eventId}/${endpoint}`;
export const deliveryPrefix = (transactionId: string) => `${transactionId}/events/`;
