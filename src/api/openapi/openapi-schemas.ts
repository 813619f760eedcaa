import { z } from 'zod';
import { TRANSACTION_STATUSES } from '../../domain/transaction';
import { TX_PHASES } from '../../domain/phase';

// What the API answers, for the OpenAPI document only (the route declarations validate requests, not answers).
// The OpenAPI test checks real answers against these, so they cannot drift from transaction-dialects.ts, error-handler.ts
// and health.

const nullableString = z.string().nullable();
const phase = z
  .enum(TX_PHASES)
  .nullable()
  .describe('where the workflow is (the TxPhase search attribute); null before its first answer');
const pausedReason = nullableString.describe(
  '"downstream unhealthy" while the worker\'s circuit breaker pauses the transaction, else null',
);
const instant = z.string().describe('ISO 8601 date-time');
const decimal = z
  .string()
  .describe('canonical decimal string, with the currency\'s minor-unit digits ("150.50")');

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('each failing field, e.g. "body.amount"'),
    transaction_id: z
      .string()
      .optional()
      .describe('503 "Outcome unknown": the transaction that may have been started; resend under this ID'),
    instance: z.string(),
    request_id: z.string(),
  })
  .describe('RFC 9457 problem details; nothing internal is ever in it');

const apiTransactionFields = {
  transactionId: z.string(),
  status: z.enum(TRANSACTION_STATUSES),
  amount: decimal,
  currency: z.string(),
  description: nullableString,
  sourceAccount: nullableString,
  destinationAccount: nullableString,
  timestamp: instant,
  metadata: z.record(z.string(), z.unknown()).nullable(),
  submittedAt: instant,
  completedAt: instant.nullable(),
};

export const apiTransactionSchema = z.object({
  ...apiTransactionFields,
  attempts: z.number().int().describe('downstream calls so far, checks and posts, retries included'),
  lastError: nullableString,
  outcome: z.enum(['posted', 'already_present']).nullable(),
  phase,
  pausedReason,
});

/** A listing holds what the memo and search attributes tell: no outcome; attempts and lastError as last recorded. */
export const apiListItemSchema = z.object({
  ...apiTransactionFields,
  phase: nullableString.describe('TxPhase: where the run is (checking, posting, waiting_to_retry, ...)'),
  pausedReason,
  attempts: z.number().int().nullable().describe('TxAttempts: downstream calls so far, as last recorded'),
  lastError: nullableString.describe('the last error the run recorded (its memo); null: none'),
  lastErrorKind: nullableString.describe('its kind: a posting error kind, or deadline'),
});

export const apiListPageSchema = z.object({
  items: z.array(apiListItemSchema),
  next_cursor: nullableString.describe('pass as `cursor`, with the same filters, for the next page'),
});

export const v1TransactionSchema = z.object({
  transaction_id: z.string(),
  source_account: nullableString,
  destination_account: nullableString,
  amount: decimal,
  currency: z.string(),
  status: z.enum(['PROCESSING', 'PROCESSED', 'FAILED']),
  created_at: instant,
  processed_at: instant.nullable(),
  phase,
  paused_reason: pausedReason,
});

const count = z.number().int().nullable();
// Health is open: when API_KEYS is set, a caller without a valid key sees counts only.
const HIDDEN = 'left out when API_KEYS is set and the request has no valid key';

const temporalHealth = z.object({
  reachable: z.boolean(),
  latency_ms: z.number().nullable(),
  error: z.string().optional().describe(`why unreachable; ${HIDDEN}`),
});

const downstreamHealth = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']),
    probe: z
      .object({
        url: z.string().optional().describe(HIDDEN),
        ok: z.boolean(),
        http_status: z.number().int().nullable(),
        latency_ms: z.number().nullable(),
        error: nullableString.optional().describe(HIDDEN),
        checked_at: instant,
      })
      .nullable()
      .describe("the posting service's health endpoint; null when the API has no POSTING_SERVICE_URL"),
    stalled: z.object({
      after_seconds: z.number(),
      count: count.describe('transactions `processing` for longer than after_seconds'),
      sample: z
        .array(
          z.object({
            transaction_id: z.string(),
            activity: nullableString,
            attempt: z.number().int().nullable(),
            last_failure: nullableString,
          }),
        )
        .optional()
        .describe(HIDDEN),
    }),
  })
  .describe('`down`: its health endpoint fails; `degraded`: transactions stall in processing');

export const healthSchema = z.object({
  status: z
    .enum(['OK', 'DEGRADED', 'UNAVAILABLE'])
    .describe(
      '`DEGRADED` (HTTP 200): the downstream is not well; `UNAVAILABLE` (503): Temporal is unreachable',
    ),
  queue_depth: z
    .number()
    .int()
    .describe('transactions not yet completed or failed (while Temporal is unreachable: the last measured)'),
  error_rate: z
    .number()
    .min(0)
    .max(1)
    .describe('share of those finished in the window that failed; 0 when none finished'),
  uptime: z.number().describe('seconds since this API process started'),
  figures_measured_at: instant
    .nullable()
    .describe(
      'when queue_depth and error_rate were measured; null: never (Temporal unreachable since start)',
    ),
  temporal: temporalHealth,
  task_queue: z.object({
    name: z.string(),
    workflow_backlog: count,
    activity_backlog: count,
    workers_polling: count,
  }),
  errors: z
    .object({ window_seconds: z.number(), finished: count, failed: count })
    .describe('the counts behind error_rate'),
  downstream: downstreamHealth,
  posting_rate: z
    .object({
      max_per_second: z.number().nullable().describe('null: no cap'),
      source: z.enum(['operator', 'worker', 'none']),
    })
    .nullable()
    .describe('the posting rate cap in force (PUT /api/admin/posting-rate); null: Temporal unreachable'),
  restarts: z
    .record(z.string(), z.number().int())
    .nullable()
    .describe('under `npm start`: how many times it restarted each component (worker, api); else null'),
  checked_at: instant,
  version: z.string(),
});

export const v1HealthSchema = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  timestamp: instant,
  version: z.string(),
  uptime_seconds: z.number().int(),
  temporal: temporalHealth,
  queue_depth: count,
  downstream: downstreamHealth,
});
