import { Router } from 'express';
import type { HealthService } from '../health-service';

/**
 * `/api/health` with the full figures, and `GET /` in the webhook dialect's shape. 503 only when Temporal is
 * unreachable: a downstream problem is `degraded` with 200, so a load balancer keeps this API in rotation (it
 * still accepts transactions, which wait in Temporal until the downstream is back).
 */
export function healthRouter(health: HealthService, version: string): Router {
  const router = Router();

  router.get('/api/health', async (_req, res) => {
    const report = await health.report();
    res.status(report.status === 'unavailable' ? 503 : 200).json({ ...report, version });
  });

  router.get('/', async (_req, res) => {
    const report = await health.report();
    res.status(report.status === 'unavailable' ? 503 : 200).json({
      status: report.status === 'ok' ? 'healthy' : report.status === 'degraded' ? 'degraded' : 'unhealthy',
      timestamp: report.checked_at,
      version,
      uptime_seconds: report.uptime_seconds,
      temporal: report.temporal,
      queue_depth: report.queue_depth,
      downstream: report.downstream,
    });
  });

  return router;
}
