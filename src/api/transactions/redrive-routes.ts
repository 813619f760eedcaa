import { route, type RouteDeclaration } from '../http/route';
import { GUARDED, json, named, problem, RETRY_AFTER } from '../openapi/responses';
import type { Redrive } from './redrive';
import { REDRIVE_LIMIT_MAX, redriveBodySchema, redriveResultSchema } from './redrive-schemas';

export interface RedriveRoutesDeps {
  redrive: Redrive;
  maxPerSecond: number;
}

/** `POST /api/transactions/retry`: the single retry for every failed transaction a filter matches. */
export function redriveRoutes({ redrive, maxPerSecond }: RedriveRoutesDeps): RouteDeclaration[] {
  return [
    route({
      method: 'post',
      path: '/api/transactions/retry',
      operationId: 'redriveTransactions',
      summary: 'Retry the failed transactions a filter matches (bulk redrive)',
      description:
        'Lists failed transactions (`from` inclusive, `to` exclusive, on the time accepted), keeps those whose ' +
        'last recorded error contains `error` (any case) and is of `error_kind`, and retries each by the single ' +
        `retry's rules, at most REDRIVE_MAX_PER_SECOND (here ${maxPerSecond}) per second. It answers when done: ` +
        `up to \`limit\` (at most ${REDRIVE_LIMIT_MAX}) transactions take limit / REDRIVE_MAX_PER_SECOND seconds. ` +
        '`dry_run`: only counts and lists them. Safe to repeat: one already retried is skipped (`running`, ' +
        '`completed`).',
      tags: ['transactions'],
      body: named('RedriveFilter', redriveBodySchema),
      responses: {
        '200': json(
          'what it matched, retried and skipped, and why',
          named('RedriveResult', redriveResultSchema),
        ),
        '400': problem('an invalid or unknown field'),
        '503': problem('Temporal unreachable while listing: nothing was retried', RETRY_AFTER),
        ...GUARDED,
      },
      handler: async ({ body }, req, res) => {
        const startedAt = Date.now();
        const result = await redrive.run(body);
        const { ids: _ids, skipped_items: _items, ...counts } = result;
        req.log.info({ filter: body, ...counts, ms: Date.now() - startedAt }, 'redrive done');
        res.json(result);
      },
    }),
  ];
}
