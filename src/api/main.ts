import { apiSettings } from '../config/api';
import { callbackSettings } from '../config/callbacks';
import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { processingPolicy } from '../config/policy';
import { temporalSettings } from '../config/temporal';
import { tracingSettings } from '../config/tracing';
import { loadTracing } from '../tracing/load';
import { serveApi } from './http/serve';
import { createTemporalClient } from './temporal/temporal-client';

void runMain(async () => {
  const settings = apiSettings();
  const temporal = temporalSettings();
  const policy = processingPolicy();
  const callbacks = callbackSettings();
  const tracingConfig = tracingSettings('txflow-api');
  const logger = createLogger('api');

  const tracing = await loadTracing(tracingConfig);
  const client = createTemporalClient(temporal, { interceptors: tracing?.clientInterceptors });
  const api = await serveApi({
    settings,
    temporal,
    policy,
    callbacks,
    client,
    logger,
    ...(tracing && { requestSpans: tracing.requestSpans }),
  });

  // SIGTERM: stop accepting, close idle keep-alive connections, answer in-flight requests with
  // `Connection: close`, cut what is left at SHUTDOWN_GRACE_MS, then exit 0.
  const shutdown = (signal: string) => {
    const stopped = api.stop();
    // Logged once the server no longer accepts: whoever reads the line finds new connections refused.
    logger.info({ signal }, 'api stopping');
    void stopped
      .then(() => client.connection.close())
      .catch((err: unknown) => logger.warn({ err }, 'closing the Temporal connection failed'))
      // The spans still buffered, requests' last ones included, go out before the exit.
      .then(() => tracing?.shutdown())
      .catch((err: unknown) => logger.warn({ err }, 'flushing the traces failed'))
      .finally(() => {
        logger.info('api stopped');
        process.exit(0);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
});
