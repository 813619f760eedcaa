import { Router } from 'express';
import type { Registry } from 'prom-client';

/** `GET /metrics`: the registry in Prometheus's text format. */
export function metricsRouter(registry: Registry): Router {
  const router = Router();

  router.get('/metrics', async (_req, res) => {
    const text = await registry.metrics();
    res.set({ 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }).send(text);
  });

  return router;
}
