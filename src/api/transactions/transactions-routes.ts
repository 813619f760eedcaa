import { Router } from 'express';
import { apiListItem, apiView } from './dialects';
import { decodeCursor, encodeCursor, type ListFilters } from './list-cursor';
import { listQuerySchema, transactionIdParams } from './list-schemas';
import { conflict, notFound, validationProblem } from '../http/problem';
import { fromApiBody } from './submission';
import { apiSubmissionSchema, transactionId, type AmountFormat } from './submission-schemas';
import { unknownStartProblem } from '../http/error-handler';
import { isTerminal } from './transaction-view';
import { PageTokenRefusedError, type TransactionsService } from './transactions-service';
import { requireJson, validate, validateBody } from '../http/validate';

// Numbers stored as sent: the amount, and any in metadata.
const EXACT_NUMBERS: ReadonlySet<string> = new Set(['amount', 'metadata']);

/**
 * `/api/transactions`: submit (202 new, 200 same again, 409 different body under a known ID), read, list,
 * retry a failed one and cancel one not yet posted.
 */
export function transactionsRouter(
  service: TransactionsService,
  metadataLimitBytes: number,
  amountFormat: AmountFormat,
): Router {
  const router = Router();
  const bodySchema = apiSubmissionSchema(metadataLimitBytes, amountFormat);

  router.get('/', async (req, res) => {
    const { limit, cursor, ...query } = validate(listQuerySchema, { ...req.query }, 'query');
    const filters: ListFilters = query;
    let pageToken: Uint8Array | undefined;
    if (cursor !== undefined) {
      const decoded = decodeCursor(cursor, filters);
      if (!decoded.ok) throw validationProblem([{ field: 'query.cursor', message: decoded.reason }]);
      pageToken = decoded.pageToken;
    }
    try {
      const page = await service.list(filters, limit, pageToken);
      res.json({
        items: page.items.map(apiListItem),
        next_cursor: page.nextPageToken ? encodeCursor(page.nextPageToken, filters) : null,
      });
    } catch (err) {
      if (!(err instanceof PageTokenRefusedError)) throw err;
      throw validationProblem([{ field: 'query.cursor', message: 'is not a cursor from this API' }]);
    }
  });

  router.post('/', async (req, res) => {
    requireJson(req);
    const body = validateBody(bodySchema, req, EXACT_NUMBERS);
    const submission = fromApiBody(body, transactionIdOf(body.id, req.get('Idempotency-Key')), new Date());
    const { id } = submission.transaction;
    const result = await service.submit(submission).catch((err: unknown) => {
      // The ID may be one the API generated: the answer tells it, so the client can resend under it.
      throw unknownStartProblem(err, `Resend the same body with "id": "${id}"`, location(id));
    });
    if (result.kind === 'conflict') {
      throw conflict(`Transaction ${id} was already submitted with a different body`);
    }
    res
      .status(result.kind === 'accepted' ? 202 : 200)
      .location(location(id))
      .json(apiView(result.view));
  });

  router.get('/:id', async (req, res) => {
    const { id } = validate(transactionIdParams, req.params, 'path');
    const found = await service.get(id);
    if (!found) throw notFound(`Transaction ${id}`);
    res.json(apiView(found.view));
  });

  // 202: a new run has started (pending); 409 unless the last run failed.
  router.post('/:id/retry', async (req, res) => {
    const { id } = validate(transactionIdParams, req.params, 'path');
    const result = await service.retry(id).catch((err: unknown) => {
      throw unknownStartProblem(
        err,
        `Read it at ${location(id)}, and resend the retry if it is still failed`,
        location(id),
      );
    });
    if (result.kind === 'not_found') throw notFound(`Transaction ${id}`);
    if (result.kind === 'conflict') {
      throw conflict(`Transaction ${id} is ${result.view.status}: only a failed transaction can be retried`);
    }
    res.status(202).location(location(id)).json(apiView(result.view));
  });

  // 200: cancelled, it will never be posted; 202: no worker answered, cancellation requested (the status
  // tells the outcome); 409: the POST may have been sent, or the transaction is already final.
  router.post('/:id/cancel', async (req, res) => {
    const { id } = validate(transactionIdParams, req.params, 'path');
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
  });

  return router;
}

const location = (id: string) => `/api/transactions/${encodeURIComponent(id)}`;

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
