import express, { type Express } from 'express';
import type { Logger } from '../config/logger';
import { errorHandler, notFoundHandler } from './error-handler';
import type { HealthService } from './health-service';
import { requestContext } from './request-context';
import { healthRouter } from './routes/health';
import { transactionsRouter } from './routes/transactions';
import { webhooksRouter } from './routes/webhooks';
import type { TransactionsService } from './transactions-service';

export interface AppDeps {
  transactions: TransactionsService;
  health: HealthService;
  logger: Logger;
  bodyLimitBytes: number;
  metadataLimitBytes: number;
  version: string;
}

/** The HTTP API, without listening: tests drive it with supertest, main.ts serves it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestContext(deps.logger));
  app.use(express.json({ limit: deps.bodyLimitBytes, type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps.health, deps.version));
  app.use('/api/transactions', transactionsRouter(deps.transactions, deps.metadataLimitBytes));
  app.use('/v1', webhooksRouter(deps.transactions));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
