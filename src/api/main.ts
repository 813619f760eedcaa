import { apiSettings } from '../config/api';
import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { processingPolicy } from '../config/policy';
import { temporalSettings } from '../config/temporal';
import { createApp } from './app';
import { HealthService } from './health-service';
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
  });
  const version = process.env.npm_package_version ?? '0.1.0';
  const app = createApp({
    transactions,
    health,
    logger,
    version,
    namespace: temporal.namespace,
    ...settings,
  });

  const server = app.listen(settings.port, settings.host, () => {
    logger.info(
      {
        url: `http://${settings.host}:${settings.port}`,
        temporal: temporal.address,
        api_keys: settings.apiKeys.length, // how many, never which
        rate_limit_per_minute: settings.rateLimitPerMinute,
      },
      'api listening',
    );
  });
  server.keepAliveTimeout = 65_000;

  // SIGTERM: stop accepting, let in-flight requests finish (each ends within the RPC timeout), then exit 0.
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'api stopping');
    const force = setTimeout(() => {
      logger.warn('grace period over; closing remaining connections');
      server.closeAllConnections();
    }, settings.shutdownGraceMs);
    force.unref();
    server.close(() => {
      void client.connection.close().finally(() => {
        logger.info('api stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
});
