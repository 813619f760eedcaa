import { z } from 'zod';
import { HttpProblem, validationProblem } from '../http/problem';
import { route, type RouteDeclaration } from '../http/route';
import { requireJson } from '../http/validate';
import type { ApiMetrics } from '../metrics/metrics';
import { GUARDED, json, named, problem } from '../openapi/responses';
import { BATCH_PATH, rawBatchBody } from './batch-body';
import { BATCH_STATUSES, checkItems, submitBatch, summarize, type BatchItemResult } from './batch';
import type { CallbackRules } from '../events/callback-url-field';
import { apiSubmissionSchema, transactionId, type AmountFormat } from './submission-schemas';
import { amountRules } from './transaction-docs';
import type { TransactionsService } from './transactions-service';

export interface BatchRoutesDeps {
  service: TransactionsService;
  metrics: ApiMetrics;
  metadataLimitBytes: number;
  amountFormat: AmountFormat;
  /** API_BATCH_MAX_ITEMS. */
  maxItems: number;
  /** The body limit the batch parser enforces (batchBodyLimitBytes), for the document. */
  bodyLimitBytes: number;
  /** Whether and where an item's `callback_url` may point (as for a single POST). */
  callbacks?: CallbackRules;
}

/** Starts in flight at once for one batch: enough to fill a round trip to Temporal, few enough to share it. */
export const BATCH_CONCURRENCY = 16;

const FIELD = 'body.transactions';
const location = (id: string) => `/api/transactions/${encodeURIComponent(id)}`;

const batchResultSchema = z.object({
  results: z
    .array(
      z.object({
        index: z.number().int().describe("the item's position in `transactions`, from 0"),
        id: z.string().nullable().describe('the transaction ID; null when the item has no valid one'),
        status: z.enum(BATCH_STATUSES),
        location: z.string().optional().describe('accepted, duplicate, unknown: where to read it'),
        errors: z
          .array(z.object({ field: z.string(), message: z.string() }))
          .optional()
          .describe('invalid: each failing field, e.g. "body.transactions[3].amount"'),
      }),
    )
    .describe('one per item, in request order'),
  summary: z.object(Object.fromEntries(BATCH_STATUSES.map((s) => [s, z.number().int()]))),
});

/** `POST /api/transactions/batch`: many submissions in one request, each answered as if sent alone. */
export function batchRoutes(deps: BatchRoutesDeps): RouteDeclaration[] {
  const { service, metrics, maxItems } = deps;
  const itemSchema = apiSubmissionSchema(deps.metadataLimitBytes, deps.amountFormat, deps.callbacks);
  // For the document only: items are validated one by one in the handler, so one bad item refuses only itself.
  const documented = z.strictObject({
    transactions: z
      .array(itemSchema.safeExtend({ id: transactionId }))
      .min(1)
      .max(maxItems),
  });
  const declaration = route({
    method: 'post',
    path: BATCH_PATH,
    operationId: 'submitTransactionBatch',
    summary: 'Submit many transactions in one request',
    description:
      `\`transactions\`: 1 to ${maxItems} (API_BATCH_MAX_ITEMS) bodies of POST /api/transactions, each with its ` +
      '`id` (required here). Each item is answered as if sent alone, in request order: `accepted` (started), ' +
      '`duplicate` (the same ID and body again), `conflict` (the same ID with another body), `invalid` (with ' +
      '`errors` naming each field, e.g. `body.transactions[3].amount`; nothing of it starts), `unknown` (its ' +
      'start got no answer: it may have started) or `skipped` (not tried once ' +
      `${BATCH_CONCURRENCY} starts failed so, or the client left). Items` +
      ' sharing an ID are submitted in order, the later ones answered like a resend. Resending the ' +
      `whole batch is always safe. The body may take ${deps.bodyLimitBytes} bytes. ` +
      amountRules(deps.amountFormat, "an item's `amount`, or anywhere in its `metadata`"),
    tags: ['transactions'],
    responses: {
      '200': json('every item answered, in request order', named('ApiBatchResult', batchResultSchema)),
      '400': problem(
        'no `transactions` array, an empty one, another top-level field, an Idempotency-Key header (each ' +
          "item's `id` is its key), or malformed JSON; nothing started",
      ),
      '413': problem(
        'over API_BATCH_MAX_ITEMS items, or over the batch body limit; `errors` names body.transactions; nothing started',
      ),
      '415': problem('not application/json, not UTF-8, or an unknown Content-Encoding'),
      ...GUARDED,
    },
    handler: async (_input, req, res) => {
      requireJson(req);
      if (req.get('Idempotency-Key') !== undefined) {
        throw validationProblem([
          {
            field: 'header.Idempotency-Key',
            message: "is not used by a batch: each item's id is its idempotency key",
          },
        ]);
      }
      const items = envelopeItems(req.body, maxItems);
      const checked = checkItems(items, rawBatchBody(req), itemSchema, new Date());
      let abandoned = false;
      res.once('close', () => {
        abandoned = !res.writableFinished;
      });
      const results = await submitBatch(checked, {
        submit: (submission) => service.submit(submission),
        concurrency: BATCH_CONCURRENCY,
        location,
        onSubmitted: (result) => metrics.countSubmitted('batch', result),
        onFailed: (err, id) => req.log.warn({ err, transaction_id: id }, 'batch item start failed'),
        abandoned: () => abandoned,
      });
      countItems(metrics, results);
      res.json({ results, summary: summarize(results) });
    },
  });
  return [{ ...declaration, body: named('ApiBatchSubmission', documented) }];
}

/** The `transactions` array of a batch body, or a 400/413 naming body.transactions: nothing starts then. */
function envelopeItems(body: unknown, maxItems: number): unknown[] {
  const refuse = (message: string) => validationProblem([{ field: FIELD, message }]);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw refuse('is missing: send a JSON object {"transactions": [ ... ]}');
  }
  const { transactions, ...others } = body as Record<string, unknown>;
  const unknown = Object.keys(others);
  if (unknown.length > 0) {
    throw validationProblem([
      {
        field: 'body',
        message: `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`,
      },
    ]);
  }
  if (!Array.isArray(transactions)) throw refuse('must be an array of transactions');
  if (transactions.length === 0) throw refuse('must hold at least 1 transaction');
  if (transactions.length > maxItems) {
    const message = `must hold at most ${maxItems} transactions (API_BATCH_MAX_ITEMS); it holds ${transactions.length}`;
    throw new HttpProblem(413, 'Too many transactions', `${FIELD}: ${message}`, [{ field: FIELD, message }]);
  }
  return transactions;
}

/** The items that were not submitted, by status; submitted ones are counted as each answer comes. */
function countItems(metrics: ApiMetrics, results: readonly BatchItemResult[]): void {
  for (const { status } of results) {
    if (status === 'invalid') metrics.countSubmission('batch', 'rejected');
    else if (status === 'unknown' || status === 'skipped') metrics.countSubmission('batch', status);
  }
  metrics.countBatch(results.length);
}
