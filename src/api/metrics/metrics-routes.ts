import type { Registry } from 'prom-client';
import { route, type RouteDeclaration } from '../http/route';
import { GUARDED } from '../openapi/responses';

/** `GET /metrics`: the registry in Prometheus's text format. */
export function metricsRoutes(registry: Registry): RouteDeclaration[] {
  return [
    route({
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus metrics (METRICS_ENABLED); needs a key when API_KEYS is set',
      tags: ['operations'],
      responses: {
        '200': { description: 'Prometheus text format', content: { 'text/plain': null } },
        ...GUARDED,
      },
      handler: async (_input, _req, res) => {
        const text = await registry.metrics();
        res.set({ 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }).send(text);
      },
    }),
  ];
}
