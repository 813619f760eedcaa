import { z } from 'zod';
import { listQuerySchema, transactionIdParams } from '../transactions/list-schemas';
import {
  apiListPageSchema,
  apiTransactionSchema,
  healthSchema,
  problemSchema,
  v1HealthSchema,
  v1TransactionSchema,
} from './openapi-schemas';
import {
  apiSubmissionSchema,
  transactionId,
  webhookSubmissionSchema,
  type AmountFormat,
} from '../transactions/submission-schemas';

/** A schema with the name it has under `components.schemas`. */
export interface Named {
  name: string;
  schema: z.ZodType;
}

export interface ResponseDoc {
  description: string;
  /** Media type → body schema; null where the body is not described by a schema (HTML, Prometheus text). */
  content?: Record<string, Named | null>;
  /** Header name → what it says. */
  headers?: Record<string, string>;
}

/** One route of the API as the OpenAPI document describes it, with the zod schemas its router validates with. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The Express pattern, as mounted: "/api/transactions/:id". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Needs no API key even when API_KEYS is set (health, the test page, the documentation). */
  open?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: Named;
  responses: Record<string, ResponseDoc>;
}

export interface RouteDocsOptions {
  metadataLimitBytes: number;
  metricsEnabled: boolean;
  docsEnabled: boolean;
  /** POSTING_AMOUNT_FORMAT (default `number`): the amount rule the document states. */
  amountFormat?: AmountFormat;
}

const named = (name: string, schema: z.ZodType): Named => ({ name, schema });

/** Named once so every request and response that holds a transaction ID refers to one component. */
export const TRANSACTION_ID = named('TransactionId', transactionId);

const PROBLEM = named('Problem', problemSchema);
const API_TRANSACTION = named('ApiTransaction', apiTransactionSchema);
const V1_TRANSACTION = named('V1Transaction', v1TransactionSchema);

const json = (description: string, body: Named, headers?: Record<string, string>): ResponseDoc => ({
  description,
  content: { 'application/json': body },
  ...(headers && { headers }),
});

const problem = (description: string, headers?: Record<string, string>): ResponseDoc => ({
  description,
  content: { 'application/problem+json': PROBLEM },
  ...(headers && { headers }),
});

const RETRY_AFTER = { 'Retry-After': 'seconds to wait before retrying' };

/** Answers any route that needs a key can give. */
const GUARDED: Record<string, ResponseDoc> = {
  '401': problem('API_KEYS is set and no valid key was sent (`WWW-Authenticate: Bearer`)', {
    'WWW-Authenticate': 'Bearer realm="txflow"',
  }),
  '429': problem('over RATE_LIMIT_PER_MINUTE for this client', RETRY_AFTER),
};

const WRITE: Record<string, ResponseDoc> = {
  '400': problem('invalid body, each failing field in `errors`; malformed JSON'),
  '413': problem('body over BODY_LIMIT_BYTES (after decompression)'),
  '415': problem('not application/json, not UTF-8, or an unknown Content-Encoding'),
  '503': problem(
    'Temporal unreachable. Title "Outcome unknown": the start got no answer and may have been recorded; ' +
      '`transaction_id` names the ID (also a generated one) to resend with, Location where to read it. ' +
      'Otherwise nothing was started. Either way a resend with the same ID and body is safe',
    { ...RETRY_AFTER, Location: 'with "Outcome unknown": the transaction\'s URL' },
  ),
};

const READ: Record<string, ResponseDoc> = {
  '400': problem('the ID in the path is not a valid transaction ID'),
  '404': problem('no transaction with this ID'),
  '503': problem('Temporal unreachable', RETRY_AFTER),
};

const amountRules = (format: AmountFormat, numbersIn: string) =>
  'Rules beyond the schema: `amount` is a positive decimal (string or JSON number) with at most the ' +
  "currency's ISO 4217 minor-unit digits; `currency` is a known ISO 4217 code. " +
  (format === 'number'
    ? 'This API posts amounts downstream as JSON numbers (POSTING_AMOUNT_FORMAT=number): an amount a ' +
      'JSON parser would not read exactly (more significant digits than a double holds, e.g. ' +
      '"99999999999999.99") is refused. '
    : '') +
  `A JSON number in the body (${numbersIn}) whose digits the JSON parser does not ` +
  'read exactly (1.0000000000000001, 9007199254740993, 1e400) is refused rather than changed: send it as ' +
  'a string. The answer to a failed rule is a 400 problem naming the field.';

/**
 * Every route of the API. The request schemas are the very ones the routers validate with (submission-schemas.ts,
 * list-schemas.ts); the OpenAPI test checks that this table and the app's routes are the same set.
 */
export function documentedRoutes(options: RouteDocsOptions): RouteDoc[] {
  const amountFormat = options.amountFormat ?? 'number';
  const routes: RouteDoc[] = [
    {
      method: 'get',
      path: '/api/transactions',
      operationId: 'listTransactions',
      summary: 'List transactions, newest first',
      description:
        'Every filter is optional and they combine with AND; `from` is inclusive and `to` exclusive, on the time ' +
        'the transaction was accepted (an ISO 8601 date or date-time). The next page: `cursor` = the last ' +
        "page's `next_cursor`, with the same filters.",
      tags: ['transactions'],
      query: listQuerySchema,
      responses: {
        '200': json('one page', named('ApiTransactionPage', apiListPageSchema)),
        '400': problem('an invalid or unknown query parameter, or a cursor from other filters'),
        '503': problem('Temporal unreachable', RETRY_AFTER),
        ...GUARDED,
      },
    },
    {
      method: 'post',
      path: '/api/transactions',
      operationId: 'submitTransaction',
      summary: 'Submit a transaction',
      description:
        'The ID is `id`, else the `Idempotency-Key` header, else a generated UUID. 202: Temporal has durably ' +
        'recorded the start; 200: the same ID and body again; 409: the same ID with a different body. `metadata`: ' +
        'a JSON object at most 5 levels deep and METADATA_LIMIT_BYTES, no `__proto__`/`constructor`/`prototype` ' +
        'keys, and no top-level key that is a field txflow posts (`id`, `amount`, `currency`, `description`, ' +
        '`timestamp`, `source_account`, `destination_account`: each is named, e.g. `body.metadata.amount`); `description`: no control, invisible or bidirectional-override characters. ' +
        amountRules(amountFormat, '`amount`, or anywhere in `metadata`'),
      tags: ['transactions'],
      headers: z.object({ 'Idempotency-Key': transactionId.optional() }),
      body: named('ApiSubmission', apiSubmissionSchema(options.metadataLimitBytes, amountFormat)),
      responses: {
        '200': json('the same ID and body again: the current status, nothing new started', API_TRANSACTION),
        '202': json('accepted: the workflow start is durably recorded', API_TRANSACTION, {
          Location: '/api/transactions/{id}',
        }),
        '409': problem('the same ID was submitted with a different body'),
        ...WRITE,
        ...GUARDED,
      },
    },
    {
      method: 'get',
      path: '/api/transactions/:id',
      operationId: 'getTransaction',
      summary: 'Read a transaction and its processing status',
      tags: ['transactions'],
      params: transactionIdParams,
      responses: { '200': json('the transaction', API_TRANSACTION), ...READ, ...GUARDED },
    },
    {
      method: 'post',
      path: '/api/transactions/:id/retry',
      operationId: 'retryTransaction',
      summary: 'Run a failed transaction again',
      description: 'A new run starts over and, as always, looks downstream before it posts.',
      tags: ['transactions'],
      params: transactionIdParams,
      responses: {
        '202': json('a new run has started (pending)', API_TRANSACTION, {
          Location: '/api/transactions/{id}',
        }),
        '409': problem('the transaction is not failed: only a failed one can be retried'),
        ...READ,
        '503': problem(
          'Temporal unreachable; title "Outcome unknown": the new run may have started (read it, resend if still failed)',
          RETRY_AFTER,
        ),
        ...GUARDED,
      },
    },
    {
      method: 'post',
      path: '/api/transactions/:id/cancel',
      operationId: 'cancelTransaction',
      summary: 'Cancel a transaction not yet posted',
      tags: ['transactions'],
      params: transactionIdParams,
      responses: {
        '200': json('cancelled: it will never be posted', API_TRANSACTION),
        '202': json(
          'no worker answered: cancellation requested; the status tells the outcome',
          API_TRANSACTION,
          {
            Location: '/api/transactions/{id}',
          },
        ),
        '409': problem('the POST may have been sent, or the transaction is already final'),
        ...READ,
        ...GUARDED,
      },
    },
    {
      method: 'post',
      path: '/v1/webhooks/transactions',
      operationId: 'deliverWebhook',
      summary: 'Deliver a transaction (webhook dialect)',
      description:
        'Answers 202 for a new and a repeated delivery alike, so a sender never retries a duplicate; a different ' +
        'body under a known `transaction_id` is a 409. ' +
        amountRules(amountFormat, '`amount`'),
      tags: ['webhooks'],
      body: named('WebhookSubmission', webhookSubmissionSchema(amountFormat)),
      responses: {
        '202': json('accepted (new or repeated)', V1_TRANSACTION, {
          Location: '/v1/transactions/{transaction_id}',
        }),
        '409': problem('the same transaction_id was delivered with a different body'),
        ...WRITE,
        ...GUARDED,
      },
    },
    {
      method: 'get',
      path: '/v1/transactions/:transaction_id',
      operationId: 'getWebhookTransaction',
      summary: 'Read a transaction (webhook dialect)',
      tags: ['webhooks'],
      params: z.object({ transaction_id: transactionId }),
      responses: { '200': json('the transaction', V1_TRANSACTION), ...READ, ...GUARDED },
    },
    {
      method: 'get',
      path: '/api/health',
      operationId: 'getHealth',
      summary: 'Health, Temporal reachability, backlog and error rate',
      tags: ['health'],
      open: true,
      responses: {
        '200': json('healthy, or degraded (the downstream is not well)', named('Health', healthSchema)),
        '503': json('Temporal unreachable', named('Health', healthSchema)),
      },
    },
    {
      method: 'get',
      path: '/',
      operationId: 'getRoot',
      summary: 'Health in the webhook dialect; the test page for a browser (Accept preferring text/html)',
      tags: ['health'],
      open: true,
      responses: {
        '200': {
          description: 'healthy or degraded (JSON), or the test page (HTML)',
          content: { 'application/json': named('V1Health', v1HealthSchema), 'text/html': null },
        },
        '503': json('Temporal unreachable', named('V1Health', v1HealthSchema)),
      },
    },
  ];
  if (options.metricsEnabled) {
    routes.push({
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus metrics (METRICS_ENABLED); needs a key when API_KEYS is set',
      tags: ['operations'],
      responses: {
        '200': { description: 'Prometheus text format', content: { 'text/plain': null } },
        ...GUARDED,
      },
    });
  }
  if (options.docsEnabled) {
    routes.push(
      {
        method: 'get',
        path: '/openapi.json',
        operationId: 'getOpenApi',
        summary: 'This document',
        tags: ['operations'],
        open: true,
        responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': null } } },
      },
      {
        method: 'get',
        path: '/docs',
        operationId: 'getDocs',
        summary: 'This document in Swagger UI',
        tags: ['operations'],
        open: true,
        responses: { '200': { description: 'the Swagger UI page', content: { 'text/html': null } } },
      },
      {
        method: 'get',
        path: '/docs/:file',
        operationId: 'getDocsAsset',
        summary: "Swagger UI's scripts, style sheet and icons",
        tags: ['operations'],
        open: true,
        params: z.object({ file: z.string() }),
        responses: {
          '200': { description: 'the file' },
          '404': problem('no such file'),
        },
      },
    );
  }
  return routes;
}
