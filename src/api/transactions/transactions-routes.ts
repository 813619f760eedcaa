import { z } from 'zod';
import { unknownStartProblem } from '../http/error-handler';
import { conflict, notFound, validationProblem } from '../http/problem';
import { route, type RouteDeclaration } from '../http/route';
import { validate } from '../http/validate';
import type { ApiMetrics } from '../metrics/metrics';
import { apiListPageSchema } from '../openapi/openapi-schemas';
import { GUARDED, json, named, problem, RETRY_AFTER } from '../openapi/responses';
import type { CallbackRules } from '../events/callback-url-field';
import { apiListItem, apiView, pausedReason } from '../../domain/transaction-dialects';
import { decodeCursor, encodeCursor, type ListFilters } from './list-cursor';
import { listQuerySchema, transactionIdParams } from './list-schemas';
import { fromApiBody } from './submission';
import { apiSubmissionSchema, transactionId, type AmountFormat } from './submission-schemas';
import { API_TRANSACTION, amountRules, READ, WRITE } from './transaction-docs';
import { isTerminal } from './transaction-view';
import { PageTokenRefusedError, type TransactionsService } from './transactions-service';
import { preferredWait, type TransactionWaits } from './wait';
import { PREFERENCE_APPLIED, WAIT_DOCS, waitHeaders, waitQuery } from './wait-docs';

export interface TransactionsRoutesDeps {
  service: TransactionsService;
  metrics: ApiMetrics;
  metadataLimitBytes: number;
  amountFormat: AmountFormat;
  /** API_MAX_WAIT_SECONDS: the longest `Prefer: wait` and `?wait` allowed. */
  maxWaitSeconds: number;
  waits: TransactionWaits;
  callbacks?: CallbackRules;
}

const BASE = '/api/transactions';
const TAGS = ['transactions'];
const LOCATION = { Location: '/api/transactions/{id}' };
const location = (id: string) => `${BASE}/${encodeURIComponent(id)}`;

/**
 * `/api/transactions`: submit (202 new, 200 same again, 409 different body under a known ID), read, list,
 * retry a failed one and cancel one not yet posted.
 */
export function transactionsRoutes(deps: TransactionsRoutesDeps): RouteDeclaration[] {
  const { service, metrics } = deps;
  return [
    route({
      method: 'get',
      path: BASE,
      operationId: 'listTransactions',
      summary: 'List transactions, newest first',
      description:
        'Every filter is optional and they combine with AND; `from` is inclusive and `to` exclusive, on the time ' +
        'the transaction was accepted (an ISO 8601 date or date-time). The next page: `cursor` = the last ' +
        "page's `next_cursor`, with the same filters. `phase` and `min_attempts` find stuck ones " +
        '(`phase=posting&min_attempts=6` is the Web UI\'s `TxPhase = "posting" AND TxAttempts > 5`).',
      tags: TAGS,
      query: listQuerySchema,
      responses: {
        '200': json('one page', named('ApiTransactionPage', apiListPageSchema)),
        '400': problem('an invalid or unknown query parameter, or a cursor from other filters'),
        '503': problem('Temporal unreachable', RETRY_AFTER),
        ...GUARDED,
      },
      handler: async ({ query: { limit, cursor, ...filters } }, _req, res) => {
        const refused = () =>
          validationProblem([{ field: 'query.cursor', message: 'is not a cursor from this API' }]);
        const pageToken = cursor === undefined ? undefined : pageTokenOf(cursor, filters);
        const page = await service.list(filters, limit, pageToken).catch((err: unknown) => {
          throw err instanceof PageTokenRefusedError ? refused() : err;
        });
        res.json({
          items: page.items.map((item) => ({
            ...apiListItem(item),
            phase: item.phase,
            pausedReason: pausedReason(item),
            attempts: item.attempts,
            lastError: item.lastError,
            lastErrorKind: item.lastErrorKind,
          })),
          next_cursor: page.nextPageToken ? encodeCursor(page.nextPageToken, filters) : null,
        });
      },
    }),
    route({
      method: 'post',
      path: BASE,
      operationId: 'submitTransaction',
      summary: 'Submit a transaction',
      description:
        'The ID is `id`, else the `Idempotency-Key` header, else a generated UUID. 202: Temporal has durably ' +
        'recorded the start; 200: the same ID and body again; 409: the same ID with a different body. `metadata`: ' +
        'a JSON object at most 5 levels deep and METADATA_LIMIT_BYTES, no `__proto__`/`constructor`/`prototype` ' +
        'keys, and no top-level key that is a field txflow posts (`id`, `amount`, `currency`, `description`, ' +
        '`timestamp`, `source_account`, `destination_account`: each is named, e.g. `body.metadata.amount`); `description`: no control, invisible or bidirectional-override characters. ' +
        amountRules(deps.amountFormat, '`amount`, or anywhere in `metadata`'),
      tags: TAGS,
      headers: z.object({ 'Idempotency-Key': transactionId.optional(), ...waitHeaders(deps.maxWaitSeconds) }),
      body: named(
        'ApiSubmission',
        apiSubmissionSchema(deps.metadataLimitBytes, deps.amountFormat, deps.callbacks),
      ),
      // Numbers stored as sent: the amount, and any in metadata.
      exactNumbers: new Set(['amount', 'metadata']),
      responses: {
        '200': json(
          'the same ID and body again: the current status, nothing new started (with `Prefer: wait`: it is final)',
          API_TRANSACTION,
          PREFERENCE_APPLIED,
        ),
        '202': json(
          'accepted: the workflow start is durably recorded (with `Prefer: wait`: not yet final)',
          API_TRANSACTION,
          {
            ...LOCATION,
            ...PREFERENCE_APPLIED,
          },
        ),
        ...WAIT_DOCS.submit,
        '409': problem('the same ID was submitted with a different body'),
        ...WRITE,
        ...WAIT_DOCS.submitErrors,
        ...GUARDED,
      },
      handler: async ({ body }, req, res) => {
        const wait = preferredWait(req.get('Prefer'), deps.maxWaitSeconds); // refused before anything starts
        const submission = fromApiBody(
          body,
          transactionIdOf(body.id, req.get('Idempotency-Key')),
          new Date(),
        );
        const { id } = submission.transaction;
        const result = await service.submit(submission).catch((err: unknown) => {
          // The ID may be one the API generated: the answer tells it, so the client can resend under it.
          throw unknownStartProblem(err, `Resend the same body with "id": "${id}"`, location(id));
        });
        metrics.countSubmitted('api', result);
        if (result.kind === 'conflict') {
          throw conflict(`Transaction ${id} was already submitted with a different body`);
        }
        if (wait !== undefined) {
          const waited = await deps.waits.forResult(res, id, result.view, wait, result.kind === 'accepted');
          if (!waited) return; // the client hung up
          if (waited.applied) res.set('Preference-Applied', `wait=${wait}`);
          res.status(waited.status).location(location(id)).json(apiView(waited.view));
          return;
        }
        res
          .status(result.kind === 'accepted' ? 202 : 200)
          .location(location(id))
          .json(apiView(result.view));
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/:id`,
      operationId: 'getTransaction',
      summary: 'Read a transaction and its processing status',
      tags: TAGS,
      description: WAIT_DOCS.readDescription,
      params: transactionIdParams,
      query: waitQuery(deps.maxWaitSeconds),
      responses: {
        '200': json('the transaction', API_TRANSACTION),
        ...READ,
        ...WAIT_DOCS.readErrors,
        ...GUARDED,
      },
      handler: async ({ params: { id }, query }, _req, res) => {
        const found = await service.get(id);
        if (!found) throw notFound(`Transaction ${id}`);
        const view =
          query.wait === undefined ? found.view : await deps.waits.forChange(res, id, found.view, query.wait);
        if (!view) return; // the client hung up
        res.json(apiView(view));
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/:id/retry`,
      operationId: 'retryTransaction',
      summary: 'Run a failed transaction again',
      description: 'A new run starts over and, as always, looks downstream before it posts.',
      tags: TAGS,
      params: transactionIdParams,
      responses: {
        '202': json('a new run has started (pending)', API_TRANSACTION, LOCATION),
        '409': problem('the transaction is not failed: only a failed one can be retried'),
        ...READ,
        '503': problem(
          'Temporal unreachable; title "Outcome unknown": the new run may have started (read it, resend if still failed)',
          RETRY_AFTER,
        ),
        ...GUARDED,
      },
      handler: async ({ params: { id } }, _req, res) => {
        const result = await service.retry(id).catch((err: unknown) => {
          const retryAgain = `Read it at ${location(id)}, and resend the retry if it is still failed`;
          throw unknownStartProblem(err, retryAgain, location(id));
        });
        metrics.countRetried(result);
        if (result.kind === 'not_found') throw notFound(`Transaction ${id}`);
        if (result.kind === 'conflict') {
          throw conflict(
            `Transaction ${id} is ${result.view.status}: only a failed transaction can be retried`,
          );
        }
        res.status(202).location(location(id)).json(apiView(result.view));
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/:id/cancel`,
      operationId: 'cancelTransaction',
      summary: 'Cancel a transaction not yet posted',
      tags: TAGS,
      params: transactionIdParams,
      responses: {
        '200': json('cancelled: it will never be posted', API_TRANSACTION),
        '202': json(
          'no worker answered: cancellation requested; the status tells the outcome',
          API_TRANSACTION,
          LOCATION,
        ),
        '409': problem('the POST may have been sent, or the transaction is already final'),
        ...READ,
        ...GUARDED,
      },
      handler: async ({ params: { id } }, _req, res) => {
        const result = await service.cancel(id);
        if (result.kind === 'not_found') throw notFound(`Transaction ${id}`);
        if (result.kind === 'too_late') {
          const why = isTerminal(result.view.status)
            ? `is already ${result.view.status}`
            : 'may already have been posted; it runs to its outcome';
          throw conflict(`Transaction ${id} cannot be cancelled: it ${why}`);
        }
        res
          .status(result.kind === 'cancelled' ? 200 : 202)
          .location(location(id))
          .json(apiView(result.view));
      },
    }),
  ];
}

/** Temporal's page token from a client's cursor, which must come from a listing with the same filters. */
function pageTokenOf(cursor: string, filters: ListFilters): Uint8Array {
  const decoded = decodeCursor(cursor, filters);
  if (!decoded.ok) throw validationProblem([{ field: 'query.cursor', message: decoded.reason }]);
  return decoded.pageToken;
}

/** The ID is the body's `id`, else the Idempotency-Key header; without either, a new one (not deduplicable). */
function transactionIdOf(bodyId: string | undefined, header: string | undefined): string | undefined {
  if (header === undefined) return bodyId;
  const key = validate(transactionId, header, 'header.Idempotency-Key');
  if (bodyId !== undefined && bodyId !== key) {
    throw validationProblem([
      { field: 'header.Idempotency-Key', message: 'must equal body.id when both are given' },
    ]);
  }
  return key;
}
