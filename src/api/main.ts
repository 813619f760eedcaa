import { Registry } from 'prom-client';
import { apiSettings } from '../config/api';
import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { processingPolicy } from '../config/policy';
import { describeTemporalConnection, temporalSettings } from '../config/temporal';
import { createApp } from './app';
import { DownstreamProbe } from './downstream-probe';
import { gracefulStopper } from './graceful-stop';
import { HealthService } from './health-service';
import { collectProcessMetrics } from './metrics';
import { createTemporalClient } from './temporal-client';
import { TransactionsService } from './transactions-service';

void runMain(async () => {
  const settings = apiSettings();
  const temporal = temporalSettings();
  const policy = processingPolicy();
  const logger = createLogger('api');

  const client = createTemporalClient(temporal);
  const transactions = new TransactionsService({
    client,
    taskQueue: temporal.taskQueue,
    policy,
    queryDeadlineMs: settings.queryDeadlineMs,
    rpcTimeoutMs: settings.rpcTimeoutMs,
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
  });
  const version = process.env.npm_package_version ?? '0.1.0';
  const metricsRegistry = new Registry();
  if (settings.metricsEnabled) collectProcessMetrics(metricsRegistry);
  const app = createApp({
    transactions,
    health,
    logger,
    version,
    namespace: temporal.namespace,
    metricsRegistry,
    ...settings,
  });

  const server = app.listen(settings.port, settings.host, () => {
    logger.info(
      {
        url: `http://${settings.host}:${settings.port}`,
        temporal: describeTemporalConnection(temporal),
        api_keys: settings.apiKeys.length, // how many, never which
        rate_limit_per_minute: settings.rateLimitPerMinute,
      },
      'api listening',
    );
  });
  server.keepAliveTimeout = 65_000;

  const stopper = gracefulStopper(server);

  // SIGTERM: stop accepting, close idle keep-alive connections, answer in-flight requests with
  // `Connection: close`, cut what is left at SHUTDOWN_GRACE_MS, then exit 0.
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'api stopping');
    void stopper
      .stop({
        graceMs: settings.shutdownGraceMs,
        onGraceOver: (open) =>
          logger.warn({ requests_in_flight: open }, 'grace period over; closing remaining connections'),
      })
      .then(() => client.connection.close())
      .catch((err: unknown) => logger.warn({ err }, 'closing the Temporal connection failed'))
      .finally(() => {
        logger.info('api stopped');
        process.exit(0);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
});
