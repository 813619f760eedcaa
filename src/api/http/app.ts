import express, { type Express, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../../config/logger';
import { errorHandler, notFoundHandler } from './error-handler';
import type { HealthService } from '../health/health-service';
import { ApiMetrics } from '../metrics/metrics';
import { buildOpenApiDocument } from '../openapi/openapi';
import { documentedRoutes } from '../openapi/openapi-routes';
import { requestContext } from './request-context';
import { RouteIndex } from './route-index';
import { apiKeyAuth, rateLimiter, securityHeaders } from './security';
import { docsRouter } from '../openapi/docs-routes';
import { healthRouter } from '../health/health-routes';
import { metricsRouter } from '../metrics/metrics-routes';
import { testPageRouter } from '../test-page/test-page';
import { transactionsRouter } from '../transactions/transactions-routes';
import { webhooksRouter } from '../transactions/webhooks-routes';
import type { AmountFormat } from '../transactions/submission-schemas';
import type { TransactionsService } from '../transactions/transactions-service';
import { requireUtf8 } from './validate';

export interface AppDeps {
  transactions: TransactionsService;
  health: HealthService;
  logger: Logger;
  bodyLimitBytes: number;
  metadataLimitBytes: number;
  version: string;
  /** Temporal Web UI base URL: the test page links each transaction to its run there. */
  temporalUiUrl?: string;
  /** Temporal namespace of the runs, for those links ('default'). */
  namespace?: string;
  /** Accepted API keys; none (the default) means no authentication. */
  apiKeys?: readonly string[];
  /** Requests per minute per client; 0 or unset: no limit. */
  rateLimitPerMinute?: number;
  /** Serve GET /metrics (default true). */
  metricsEnabled?: boolean;
  /** This app's Prometheus registry (main.ts adds the process metrics to it); unset: a new, empty one. */
  metricsRegistry?: Registry;
  /** Serve GET /openapi.json and GET /docs (default true). */
  docsEnabled?: boolean;
  /** POSTING_AMOUNT_FORMAT, as the worker has it: `number` (the default) refuses amounts a double alters. */
  postingAmountFormat?: AmountFormat;
}

/** The app, and what tests inspect: its routes as mounted and its metrics. */
export interface AppParts {
  routes: RouteIndex;
  metrics: ApiMetrics;
}

const parts = new WeakMap<Express, AppParts>();

/** The route index and metrics of an app made by createApp. */
export function appParts(app: Express): AppParts {
  const found = parts.get(app);
  if (!found) throw new Error('not an app made by createApp');
  return found;
}

/** The HTTP API, without listening: tests drive it with supertest, main.ts serves it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  const routes = new RouteIndex();
  const metrics = new ApiMetrics(deps.metricsRegistry);
  const metricsEnabled = deps.metricsEnabled ?? true;
  const docsEnabled = deps.docsEnabled ?? true;
  const amountFormat = deps.postingAmountFormat ?? 'number';
  parts.set(app, { routes, metrics });
  // Routers go through here, so metrics label requests with their route patterns.
  const mount = (path: string, router: Router) => {
    routes.add(path, router);
    app.use(path, router);
  };

  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(metrics.middleware(routes));
  app.use(requestContext(deps.logger));
  app.use(securityHeaders());
  // Before the body is read: identify the key, count the request, refuse it without a valid key.
  const auth = deps.apiKeys?.length ? apiKeyAuth(deps.apiKeys) : undefined;
  if (auth) app.use(auth.identify);
  if (deps.rateLimitPerMinute) app.use(rateLimiter(deps.rateLimitPerMinute));
  if (auth) app.use(auth.requireKey);
  app.use(
    express.json({
      limit: deps.bodyLimitBytes,
      type: ['application/json', 'application/*+json'],
      verify: requireUtf8,
    }),
  );
  mount('/', testPageRouter({ temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace ?? 'default' }));
  // Without keys configured everyone sees it all; with keys, only a caller that sent a valid one.
  mount(
    '/',
    healthRouter(deps.health, deps.version, (req) => !auth || req.apiClient !== undefined),
  );
  if (metricsEnabled) mount('/', metricsRouter(metrics.registry));
  if (docsEnabled) {
    const document = buildOpenApiDocument(
      documentedRoutes({
        metadataLimitBytes: deps.metadataLimitBytes,
        metricsEnabled,
        docsEnabled,
        amountFormat,
      }),
      { version: deps.version, apiKeys: Boolean(auth) },
    );
    mount('/', docsRouter(document));
  }
  mount(
    '/api/transactions',
    transactionsRouter(
      metrics.countingSubmissions(deps.transactions, 'api'),
      deps.metadataLimitBytes,
      amountFormat,
    ),
  );
  mount('/v1', webhooksRouter(metrics.countingSubmissions(deps.transactions, 'v1'), amountFormat));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
