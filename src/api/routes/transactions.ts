import { Router } from 'express';
import { z } from 'zod';
import { apiView } from '../dialects';
import { conflict, notFound, validationProblem } from '../problem';
import { fromApiBody } from '../submission';
import { apiSubmissionSchema, transactionId } from '../submission-schemas';
import type { TransactionsService } from '../transactions-service';
import { requireJson, validate } from '../validate';

const idParams = z.object({ id: transactionId });

/** `/api/transactions`: submit (202 new, 200 same again, 409 different body under a known ID) and read. */
export function transactionsRouter(service: TransactionsService, metadataLimitBytes: number): Router {
  const router = Router();
  const bodySchema = apiSubmissionSchema(metadataLimitBytes);

  router.post('/', async (req, res) => {
    requireJson(req);
    const body = validate(bodySchema, req.body);
    const submission = fromApiBody(body, transactionIdOf(body.id, req.get('Idempotency-Key')), new Date());
    const result = await service.submit(submission);
    if (result.kind === 'conflict') {
      throw conflict(`Transaction ${submission.transaction.id} was already submitted with a different body`);
    }
    res
      .status(result.kind === 'accepted' ? 202 : 200)
      .location(`/api/transactions/${encodeURIComponent(result.view.transaction.id)}`)
      .json(apiView(result.view));
  });

  router.get('/:id', async (req, res) => {
    const { id } = validate(idParams, req.params, 'path');
    const found = await service.get(id);
    if (!found) throw notFound(`Transaction ${id}`);
    res.json(apiView(found.view));
  });

  return router;
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
