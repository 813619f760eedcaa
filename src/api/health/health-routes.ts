import type { Request, Response } from 'express';
import { route, type RouteDeclaration } from '../http/route';
import { healthSchema, v1HealthSchema } from '../openapi/openapi-schemas';
import { json, named } from '../openapi/responses';
import type { HealthService } from './health-service';
import { countsOnly, V1_HEALTH_STATUS } from './health-view';

export interface HealthRoutesDeps {
  health: HealthService;
  version: string;
  /** Whether a request may see transaction IDs and error messages (else counts only). */
  fullDetail: (req: Request) => boolean;
  /** Answers `GET /` with the test page when the client is a browser; true when it did. */
  testPage: (req: Request, res: Response) => boolean;
}

const TAGS = ['health'];
const HEALTH = named('Health', healthSchema);
const V1_HEALTH = named('V1Health', v1HealthSchema);

/**
 * `/api/health` with the full figures, and `GET /` in the webhook dialect's shape (or the test page, for a
 * browser). 503 only when Temporal is unreachable: a downstream problem is `DEGRADED` with 200, so a load
 * balancer keeps this API in rotation (it still accepts transactions, which wait in Temporal until the
 * downstream is back).
 */
export function healthRoutes({
  health,
  version,
  fullDetail,
  testPage,
}: HealthRoutesDeps): RouteDeclaration[] {
  const httpStatus = (status: string) => (status === 'UNAVAILABLE' ? 503 : 200);
  return [
    route({
      method: 'get',
      path: '/api/health',
      operationId: 'getHealth',
      summary: 'Health, Temporal reachability, backlog and error rate',
      tags: TAGS,
      open: true,
      responses: {
        '200': json('healthy, or degraded (the downstream is not well)', HEALTH),
        '503': json('Temporal unreachable', HEALTH),
      },
      handler: async (_input, req, res) => {
        const report = await health.report();
        const shown = fullDetail(req) ? report : countsOnly(report);
        res.status(httpStatus(report.status)).json({ ...shown, version });
      },
    }),
    route({
      method: 'get',
      path: '/',
      operationId: 'getRoot',
      summary: 'Health in the webhook dialect; the test page for a browser (Accept preferring text/html)',
      tags: TAGS,
      open: true,
      responses: {
        '200': {
          description: 'healthy or degraded (JSON), or the test page (HTML)',
          content: { 'application/json': V1_HEALTH, 'text/html': null },
        },
        '503': json('Temporal unreachable', V1_HEALTH),
      },
      handler: async (_input, req, res) => {
        if (testPage(req, res)) return;
        const report = await health.report();
        const shown = fullDetail(req) ? report : countsOnly(report);
        res.status(httpStatus(report.status)).json({
          status: V1_HEALTH_STATUS[report.status],
          timestamp: report.checked_at,
          version,
          uptime_seconds: report.uptime,
          temporal: shown.temporal,
          queue_depth: report.queue_depth,
          downstream: shown.downstream,
        });
      },
    }),
  ];
}
