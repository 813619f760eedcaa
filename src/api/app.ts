import express, { type Express } from 'express';
import type { Logger } from '../config/logger';
import { errorHandler, notFoundHandler } from './error-handler';
import type { HealthService } from './health-service';
import { requestContext } from './request-context';
import { apiKeyAuth, rateLimiter, securityHeaders } from './security';
import { healthRouter } from './routes/health';
import { testPageRouter } from './routes/test-page';
import { transactionsRouter } from './routes/transactions';
import { webhooksRouter } from './routes/webhooks';
import type { TransactionsService } from './transactions-service';
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
}

/** The HTTP API, without listening: tests drive it with supertest, main.ts serves it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
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
  app.use(testPageRouter({ temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace ?? 'default' }));
  app.use(healthRouter(deps.health, deps.version));
  app.use('/api/transactions', transactionsRouter(deps.transactions, deps.metadataLimitBytes));
  app.use('/v1', webhooksRouter(deps.transactions));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
