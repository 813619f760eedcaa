import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../../config/logger';
import { healthRoutes } from '../health/health-routes';
import type { HealthService } from '../health/health-service';
import { ApiMetrics } from '../metrics/metrics';
import { metricsRoutes } from '../metrics/metrics-routes';
import { docsRoutes } from '../openapi/docs-routes';
import { buildOpenApiDocument } from '../openapi/openapi';
import { testPageResponder } from '../test-page/test-page';
import { eventsRoutes } from '../events/events-routes';
import type { EventsService } from '../events/events-service';
import type { CallbackRules } from '../events/callback-url-field';
import type { AmountFormat } from '../transactions/submission-schemas';
import { BATCH_PATH, batchBodyParser, DEFAULT_BATCH_MAX_ITEMS } from '../transactions/batch-body';
import { batchBodyLimitBytes } from '../../config/api';
import { batchRoutes } from '../transactions/batch-routes';
import { TRANSACTION_ID } from '../transactions/transaction-docs';
import { transactionsRoutes } from '../transactions/transactions-routes';
import type { TransactionsService } from '../transactions/transactions-service';
import { TransactionWaits } from '../transactions/wait';
import { webhooksRoutes } from '../transactions/webhooks-routes';
import { adminRoutes } from '../admin/admin-routes';
import { OpsMetrics } from '../admin/ops-metrics';
import { PostingRateService } from '../admin/posting-rate';
import { Redrive } from '../transactions/redrive';
import { redriveRoutes } from '../transactions/redrive-routes';
import { errorHandler, notFoundHandler } from './error-handler';
import { requestContext } from './request-context';
import type { RouteDeclaration } from './route';
import { RouteIndex } from './route-index';
import { apiKeyAuth, rateLimiter, securityHeaders } from './security';
import { requireUtf8 } from './validate';

export interface AppDeps {
  transactions: TransactionsService;
  /** Callback events and redelivery (GET/POST /api/transactions/:id/events…); unset: no such routes. */
  events?: EventsService;
  health: HealthService;
  logger: Logger;
  bodyLimitBytes: number;
  metadataLimitBytes: number;
  /** API_BATCH_MAX_ITEMS (default 1,000): the batch route's item limit, and from it its body limit. */
  batchMaxItems?: number;
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
  /** API_MAX_WAIT_SECONDS: the longest `Prefer: wait` / `?wait` a client may ask for (default 30). */
  maxWaitSeconds?: number;
  /** API_MAX_OPEN_WAITS: waits open at once; past it a request does not wait (default 1,000). */
  maxOpenWaits?: number;
  /** POSTING_AMOUNT_FORMAT, as the worker has it: `number` (the default) refuses amounts a double alters. */
  postingAmountFormat?: AmountFormat;
  /** CALLBACK_*: which callback_url values submissions may carry; unset: callbacks off. */
  callbacks?: CallbackRules;
  /** Tracing on: gives each request a SERVER span (incoming `traceparent` honoured), current while handled. */
  requestSpans?: RequestHandler;
  /** REDRIVE_MAX_PER_SECOND: retries a bulk redrive starts per second in this process (default 20). */
  redriveMaxPerSecond?: number;
}

/** The app, and what tests inspect: its routes as mounted and its metrics. */
export interface AppParts {
  routes: RouteIndex;
  metrics: ApiMetrics;
  /** The clients' waits (`Prefer: wait`, `?wait`), ended at once when the API stops. */
  waits: TransactionWaits;
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
  const metrics = new ApiMetrics(deps.metricsRegistry);
  const docsEnabled = deps.docsEnabled ?? true;
  // Without keys configured everyone sees it all; with keys, only a caller that sent a valid one.
  const auth = deps.apiKeys?.length ? apiKeyAuth(deps.apiKeys) : undefined;
  let document = '';
  const waits = new TransactionWaits({
    client: deps.transactions.client,
    service: deps.transactions,
    metrics,
    maxOpen: deps.maxOpenWaits ?? 1_000,
  });
  const routes = new RouteIndex(
    declareRoutes(deps, metrics, waits, {
      fullDetail: (req) => !auth || req.apiClient !== undefined,
      document: docsEnabled ? () => document : undefined,
    }),
  );
  if (docsEnabled) {
    const openApi = buildOpenApiDocument(routes.declarations, {
      version: deps.version,
      apiKeys: Boolean(auth),
      shared: [TRANSACTION_ID],
    });
    document = JSON.stringify(openApi);
  }
  parts.set(app, { routes, metrics, waits });

  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // First, so that the request's log lines and its calls to Temporal happen inside its span.
  if (deps.requestSpans) app.use(deps.requestSpans);
  app.use(metrics.middleware(routes));
  app.use(requestContext(deps.logger));
  app.use(securityHeaders());
  // Before the body is read: identify the key, count the request, refuse it without a valid key.
  if (auth) app.use(auth.identify);
  if (deps.rateLimitPerMinute) app.use(rateLimiter(deps.rateLimitPerMinute));
  if (auth) app.use(auth.requireKey);
  // The batch route's own, larger limit; the parser below then finds its body read and skips it.
  app.use(BATCH_PATH, batchBodyParser(batchLimitBytes(deps)));
  app.use(
    express.json({
      limit: deps.bodyLimitBytes,
      type: ['application/json', 'application/*+json'],
      verify: requireUtf8,
    }),
  );
  routes.register(app);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/** Every route of the app, one table per concern, in the order the OpenAPI document lists them. */
function declareRoutes(
  deps: AppDeps,
  metrics: ApiMetrics,
  waits: TransactionWaits,
  { fullDetail, document }: { fullDetail: (req: Request) => boolean; document?: () => string },
): RouteDeclaration[] {
  const service = deps.transactions;
  const amountFormat = deps.postingAmountFormat ?? 'number';
  const maxWaitSeconds = deps.maxWaitSeconds ?? 30;
  const testPage = testPageResponder({
    temporalUiUrl: deps.temporalUiUrl,
    namespace: deps.namespace ?? 'default',
    maxWaitSeconds,
  });
  return [
    ...transactionsRoutes({
      service,
      metrics,
      metadataLimitBytes: deps.metadataLimitBytes,
      amountFormat,
      maxWaitSeconds,
      waits,
      callbacks: deps.callbacks,
    }),
    ...batchRoutes({
      service,
      metrics,
      metadataLimitBytes: deps.metadataLimitBytes,
      amountFormat,
      maxItems: deps.batchMaxItems ?? DEFAULT_BATCH_MAX_ITEMS,
      bodyLimitBytes: batchLimitBytes(deps),
      callbacks: deps.callbacks,
    }),
    ...(deps.events ? eventsRoutes({ events: deps.events, metrics }) : []),
    ...opsRoutes(deps, metrics),
    ...webhooksRoutes({ service, metrics, amountFormat, callbacks: deps.callbacks }),
    ...healthRoutes({ health: deps.health, version: deps.version, fullDetail, testPage }),
    ...((deps.metricsEnabled ?? true) ? metricsRoutes(metrics.registry) : []),
    ...(document ? docsRoutes(document) : []),
  ];
}

/** The operator's routes: bulk redrive and the posting rate cap (docs/operations.md). */
function opsRoutes(deps: AppDeps, metrics: ApiMetrics): RouteDeclaration[] {
  const service = deps.transactions;
  const maxPerSecond = deps.redriveMaxPerSecond ?? 20;
  const redrive = new Redrive({
    service,
    maxPerSecond,
    onOutcome: (outcome) => ops.redrive(outcome),
    onRetried: (result) => metrics.countRetried(result),
  });
  const postingRate = new PostingRateService({
    client: service.client,
    taskQueue: service.taskQueue,
    rpcTimeoutMs: service.rpcTimeoutMs,
  });
  const ops = new OpsMetrics(metrics.registry, () => postingRate.current());
  return [...redriveRoutes({ redrive, maxPerSecond }), ...adminRoutes({ postingRate, metrics: ops })];
}

const batchLimitBytes = (deps: AppDeps) =>
  batchBodyLimitBytes({
    maxItems: deps.batchMaxItems ?? DEFAULT_BATCH_MAX_ITEMS,
    bodyLimitBytes: deps.bodyLimitBytes,
    metadataLimitBytes: deps.metadataLimitBytes,
  });
