import { z } from 'zod';
import { route, type RouteDeclaration } from '../http/route';
import { json, named, problem, GUARDED, RETRY_AFTER } from '../openapi/responses';
import type { OpsMetrics } from './ops-metrics';
import type { PostingRate } from '../../domain/posting-rate';
import type { PostingRateService } from './posting-rate';

export interface AdminRoutesDeps {
  postingRate: PostingRateService;
  metrics: OpsMetrics;
}

const PATH = '/api/admin/posting-rate';
const TAGS = ['admin'];
// Temporal keeps the rate as a float32 and pauses the queue at 0: a tiny value would stop every activity.
const RATE_MESSAGE = 'must be a number from 0.001 to 100000, or null to remove the cap';

export const postingRateSchema = z.object({
  max_per_second: z
    .number()
    .nullable()
    .describe('downstream calls per second across all workers; null: no cap'),
  source: z
    .enum(['operator', 'worker', 'none'])
    .describe("operator: set here (wins); worker: the workers' POSTING_MAX_PER_SECOND; none: no cap"),
  operator: z.object({
    max_per_second: z.number().nullable(),
    reason: z.string().nullable(),
    updated_at: z.string().nullable(),
  }),
});

const putBody = z.strictObject(
  {
    max_per_second: z
      .number({ message: RATE_MESSAGE })
      .gte(0.001, { message: RATE_MESSAGE })
      .max(100_000, { message: RATE_MESSAGE })
      .nullable(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : 'must be a JSON object with max_per_second',
  },
);

const RATE = named('PostingRate', postingRateSchema);

/**
 * The posting rate cap, read and changed at run time without restarting anything: Temporal's task-queue
 * activity rate (docs/decisions/0008). Protected like every non-health route: API_KEYS when set.
 */
export function adminRoutes({ postingRate, metrics }: AdminRoutesDeps): RouteDeclaration[] {
  const shown = (rate: PostingRate) => {
    metrics.postingRate(rate);
    return rate;
  };
  return [
    route({
      method: 'get',
      path: PATH,
      operationId: 'getPostingRate',
      summary: 'The posting rate cap in force',
      tags: TAGS,
      responses: {
        '200': json('the cap and where it comes from', RATE),
        '503': problem('Temporal unreachable', RETRY_AFTER),
        ...GUARDED,
      },
      handler: async (_input, _req, res) => {
        res.json(shown(await postingRate.current()));
      },
    }),
    route({
      method: 'put',
      path: PATH,
      operationId: 'setPostingRate',
      summary: 'Change the posting rate cap now, across all workers',
      description:
        'A number sets the operator cap, which wins over the workers’ POSTING_MAX_PER_SECOND and is kept by ' +
        'Temporal across restarts; null removes it (back to POSTING_MAX_PER_SECOND, or no cap). Takes effect ' +
        'within a second or so on every worker.',
      tags: TAGS,
      body: named('PostingRateChange', putBody),
      responses: {
        '200': json('changed: the cap now in force', RATE),
        '400': problem('max_per_second is not a number from 0.001 to 100000 or null'),
        '503': problem(
          'Temporal unreachable: nothing changed, or the change may have applied; read it',
          RETRY_AFTER,
        ),
        ...GUARDED,
      },
      handler: async ({ body }, req, res) => {
        const identity = `txflow-api ${req.apiClient ?? 'no-key'}`;
        const rate = await postingRate.set(body.max_per_second, identity);
        req.log.info({ maxPerSecond: body.max_per_second, by: identity }, 'posting rate cap changed');
        res.json(shown(rate));
      },
    }),
  ];
}
