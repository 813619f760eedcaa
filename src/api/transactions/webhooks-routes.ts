import { Router } from 'express';
import { z } from 'zod';
import { v1View } from './dialects';
import { unknownStartProblem } from '../http/error-handler';
import { conflict, notFound } from '../http/problem';
import { fromWebhookBody } from './submission';
import { transactionId, webhookSubmissionSchema, type AmountFormat } from './submission-schemas';
import type { TransactionsService } from './transactions-service';
import { requireJson, validate, validateBody } from '../http/validate';

const idParams = z.object({ transaction_id: transactionId });
const EXACT_NUMBERS: ReadonlySet<string> = new Set(['amount']);

/**
 * The webhook dialect: `/v1/webhooks/transactions` answers 202 for new and repeated deliveries alike, so a
 * sender never retries a duplicate; a different body under a known ID is still a 409.
 */
export function webhooksRouter(service: TransactionsService, amountFormat: AmountFormat): Router {
  const router = Router();
  const bodySchema = webhookSubmissionSchema(amountFormat);

  router.post('/webhooks/transactions', async (req, res) => {
    requireJson(req);
    const body = validateBody(bodySchema, req, EXACT_NUMBERS);
    const location = `/v1/transactions/${encodeURIComponent(body.transaction_id)}`;
    const result = await service.submit(fromWebhookBody(body, new Date())).catch((err: unknown) => {
      throw unknownStartProblem(err, 'Deliver it again', location);
    });
    if (result.kind === 'conflict') {
      throw conflict(`Transaction ${body.transaction_id} was already delivered with a different body`);
    }
    res.status(202).location(location).json(v1View(result.view));
  });

  router.get('/transactions/:transaction_id', async (req, res) => {
    const { transaction_id } = validate(idParams, req.params, 'path');
    const found = await service.get(transaction_id);
    if (!found) throw notFound(`Transaction ${transaction_id}`);
    res.json(v1View(found.view));
  });

  return router;
}
