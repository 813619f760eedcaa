import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { Registry } from 'prom-client';
import type { ApiSettings } from '../../config/api';
import { assertCallbackBudget, type CallbackSettings } from '../../config/callbacks';
import type { Logger } from '../../config/logger';
import { describeTemporalConnection, type TemporalSettings } from '../../config/temporal';
import type { ProcessingPolicy } from '../../domain/transaction';
import { appParts, createApp } from './app';
import { DownstreamProbe } from '../health/downstream-probe';
import { gracefulStopper } from './graceful-stop';
import { HealthService } from '../health/health-service';
import { collectProcessMetrics, type ApiMetrics } from '../metrics/metrics';
import { TransactionsService } from '../transactions/transactions-service';
import { EventsService } from '../events/events-service';

export interface ServeApiOptions {
  settings: ApiSettings;
  temporal: TemporalSettings;
  policy: ProcessingPolicy;
  /** CALLBACK_*: what callbacks the API accepts and announces; absent: none. */
  callbacks?: CallbackSettings;
  /** The process's Temporal client; its connection stays the caller's to close. */
  client: Client;
  logger: Logger;
  /** Start workflows eagerly: only with a client on the NativeConnection of a worker in this process. */
  eagerStart?: boolean;
  /** Tracing on: the request span middleware (the client's interceptor carries it into the workflow start). */
  requestSpans?: RequestHandler;
}

export interface ServedApi {
  metrics: ApiMetrics;
  /**
   * Stops accepting, closes idle keep-alive connections, answers in-flight requests with `Connection: close`,
   * cuts what is left at SHUTDOWN_GRACE_MS; resolves once the server is closed.
   */
  stop(): Promise<void>;
}

/** The API's services and app from its settings and a Temporal client, listening once this resolves. */
export async function serveApi(options: ServeApiOptions): Promise<ServedApi> {
  const { settings, temporal, policy, client, logger, callbacks } = options;
  assertCallbackBudget(settings.metadataLimitBytes, callbacks);
  const transactions = new TransactionsService({
    client,
    taskQueue: temporal.taskQueue,
    policy,
    queryDeadlineMs: settings.queryDeadlineMs,
    rpcTimeoutMs: settings.rpcTimeoutMs,
    eagerStart: options.eagerStart ?? false,
    ...(callbacks && { callbacks: { subscribers: callbacks.subscribers, policy: callbacks.policy } }),
  });
  const events = new EventsService({
    client,
    taskQueue: temporal.taskQueue,
    rpcTimeoutMs: settings.rpcTimeoutMs,
    subscribers: callbacks?.subscribers ?? [],
  });
  const health = new HealthService({
    client,
    taskQueue: temporal.taskQueue,
    windowMs: settings.healthWindowMs,
    rpcTimeoutMs: settings.rpcTimeoutMs,
    startedAt: Date.now(),
    probe:
      settings.postingServiceUrl === undefined
        ? undefined
        : new DownstreamProbe({
            baseUrl: settings.postingServiceUrl,
            intervalMs: settings.healthDownstreamProbeMs,
            timeoutMs: settings.healthDownstreamTimeoutMs,
          }),
    stalledAfterMs: settings.healthStalledAfterMs,
    sampleIntervalMs: settings.healthDownstreamProbeMs,
    restartsFile: settings.restartsFile,
  });
  const version = process.env.npm_package_version ?? '0.1.0';
  const metricsRegistry = new Registry();
  if (settings.metricsEnabled) collectProcessMetrics(metricsRegistry);
  const app = createApp({
    transactions,
    events,
    health,
    logger,
    version,
    namespace: temporal.namespace,
    metricsRegistry,
    ...(options.requestSpans && { requestSpans: options.requestSpans }),
    ...settings,
    ...(callbacks && {
      callbacks: { enabled: callbacks.signingSecret !== undefined, allowedHosts: callbacks.allowedHosts },
    }),
  });

  const server = app.listen(settings.port, settings.host);
  server.keepAliveTimeout = 65_000;
  const stopper = gracefulStopper(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
  logger.info(
    {
      url: `http://${settings.host}:${settings.port}`,
      temporal: describeTemporalConnection(temporal),
      api_keys: settings.apiKeys.length, // how many, never which
      rate_limit_per_minute: settings.rateLimitPerMinute,
    },
    'api listening',
  );

  const { metrics, waits } = appParts(app);
  return {
    metrics,
    stop: () => {
      waits.endAll();
      return stopper.stop({
        graceMs: settings.shutdownGraceMs,
        onGraceOver: (open) =>
          logger.warn({ requests_in_flight: open }, 'grace period over; closing remaining connections'),
      });
    },
  };
}
