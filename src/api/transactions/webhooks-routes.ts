import { z } from 'zod';
import { unknownStartProblem } from '../http/error-handler';
import { conflict, notFound } from '../http/problem';
import { route, type RouteDeclaration } from '../http/route';
import type { ApiMetrics } from '../metrics/metrics';
import { GUARDED, json, named, problem } from '../openapi/responses';
import type { CallbackRules } from '../events/callback-url-field';
import { v1View } from '../../domain/transaction-dialects';
import { fromWebhookBody } from './submission';
import { transactionId, webhookSubmissionSchema, type AmountFormat } from './submission-schemas';
import { amountRules, READ, V1_TRANSACTION, WRITE } from './transaction-docs';
import type { TransactionsService } from './transactions-service';

export interface WebhooksRoutesDeps {
  service: TransactionsService;
  metrics: ApiMetrics;
  amountFormat: AmountFormat;
  callbacks?: CallbackRules;
}

const TAGS = ['webhooks'];
const location = (id: string) => `/v1/transactions/${encodeURIComponent(id)}`;

/**
 * The webhook dialect: `/v1/webhooks/transactions` answers 202 for new and repeated deliveries alike, so a
 * sender never retries a duplicate; a different body under a known ID is still a 409.
 */
export function webhooksRoutes({
  service,
  metrics,
  amountFormat,
  callbacks,
}: WebhooksRoutesDeps): RouteDeclaration[] {
  return [
    route({
      method: 'post',
      path: '/v1/webhooks/transactions',
      operationId: 'deliverWebhook',
      summary: 'Deliver a transaction (webhook dialect)',
      description:
        'Answers 202 for a new and a repeated delivery alike, so a sender never retries a duplicate; a different ' +
        'body under a known `transaction_id` is a 409. ' +
        amountRules(amountFormat, '`amount`'),
      tags: TAGS,
      body: named('WebhookSubmission', webhookSubmissionSchema(amountFormat, callbacks)),
      exactNumbers: new Set(['amount']),
      responses: {
        '202': json('accepted (new or repeated)', V1_TRANSACTION, {
          Location: '/v1/transactions/{transaction_id}',
        }),
        '409': problem('the same transaction_id was delivered with a different body'),
        ...WRITE,
        ...GUARDED,
      },
      handler: async ({ body }, _req, res) => {
        const id = body.transaction_id;
        const result = await service.submit(fromWebhookBody(body, new Date())).catch((err: unknown) => {
          throw unknownStartProblem(err, 'Deliver it again', location(id));
        });
        metrics.countSubmitted('v1', result);
        if (result.kind === 'conflict') {
          throw conflict(`Transaction ${id} was already delivered with a different body`);
        }
        res.status(202).location(location(id)).json(v1View(result.view));
      },
    }),
    route({
      method: 'get',
      path: '/v1/transactions/:transaction_id',
      operationId: 'getWebhookTransaction',
      summary: 'Read a transaction (webhook dialect)',
      tags: TAGS,
      params: z.object({ transaction_id: transactionId }),
      responses: { '200': json('the transaction', V1_TRANSACTION), ...READ, ...GUARDED },
      handler: async ({ params: { transaction_id } }, _req, res) => {
        const found = await service.get(transaction_id);
        if (!found) throw notFound(`Transaction ${transaction_id}`);
        res.json(v1View(found.view));
      },
    }),
  ];
}
