import { Router, type Request } from 'express';
import type { HealthService } from './health-service';
import { countsOnly, V1_HEALTH_STATUS } from './health-view';

/**
 * `/api/health` with the full figures, and `GET /` in the webhook dialect's shape. 503 only when Temporal is
 * unreachable: a downstream problem is `DEGRADED` with 200, so a load balancer keeps this API in rotation (it
 * still accepts transactions, which wait in Temporal until the downstream is back). `fullDetail` tells whether
 * a request may see transaction IDs and error messages (else counts only).
 */
export function healthRouter(
  health: HealthService,
  version: string,
  fullDetail: (req: Request) => boolean,
): Router {
  const router = Router();

  router.get('/api/health', async (req, res) => {
    const report = await health.report();
    const shown = fullDetail(req) ? report : countsOnly(report);
    res.status(report.status === 'UNAVAILABLE' ? 503 : 200).json({ ...shown, version });
  });

  router.get('/', async (req, res) => {
    const report = await health.report();
    const shown = fullDetail(req) ? report : countsOnly(report);
    res.status(report.status === 'UNAVAILABLE' ? 503 : 200).json({
      status: V1_HEALTH_STATUS[report.status],
      timestamp: report.checked_at,
      version,
      uptime_seconds: report.uptime,
      temporal: shown.temporal,
      queue_depth: report.queue_depth,
      downstream: shown.downstream,
    });
  });

  return router;
}
