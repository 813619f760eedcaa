import { Router } from 'express';
import type { HealthService } from '../health-service';

/** `/api/health` with the full figures, and `GET /` in the webhook dialect's shape. 503 when Temporal is unreachable. */
export function healthRouter(health: HealthService, version: string): Router {
  const router = Router();

  router.get('/api/health', async (_req, res) => {
    const report = await health.report();
    res.status(report.status === 'ok' ? 200 : 503).json({ ...report, version });
  });

  router.get('/', async (_req, res) => {
    const report = await health.report();
    res.status(report.status === 'ok' ? 200 : 503).json({
      status: report.status === 'ok' ? 'healthy' : 'unhealthy',
      timestamp: report.checked_at,
      version,
      uptime_seconds: report.uptime_seconds,
      temporal: report.temporal,
      queue_depth: report.queue_depth,
    });
  });

  return router;
}
