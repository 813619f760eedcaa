import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { postingSettings } from '../config/posting';
import { describeTemporalConnection, temporalConnectionOptions, temporalSettings } from '../config/temporal';
import { workerSettings } from '../config/worker';
import { createPostingClient } from '../posting/posting-client';
import { createTxWorker } from './create-worker';
import { assertSearchAttributes } from './search-attributes-check';
import { workflowBundle } from './workflow-bundle';

void runMain(async () => {
  const temporal = temporalSettings();
  const posting = postingSettings();
  const settings = workerSettings();
  const log = createLogger('worker');

  // Must come before any connection or worker exists.
  Runtime.install({
    // SDK and Core logs as pino lines too; the bundler's chatter stays at debug.
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => {
      const pinoLevel =
        level === 'TRACE'
          ? 'trace'
          : level === 'DEBUG'
            ? 'debug'
            : level === 'WARN'
              ? 'warn'
              : level === 'ERROR'
                ? 'error'
                : 'info';
      log[pinoLevel]({ sdk: true, ...meta }, message);
    }),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      // The SDK's worker metrics and txflow's downstream outcomes, for Prometheus to scrape.
      ...(settings.metricsAddress && { metrics: { prometheus: { bindAddress: settings.metricsAddress } } }),
    },
  });

  // TLS, mTLS and the API key from TEMPORAL_TLS_* / TEMPORAL_API_KEY (validated above, files already read).
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporal));
  await assertSearchAttributes(connection, temporal.namespace);
  const postingClient = createPostingClient(posting);
  const worker = await createTxWorker({
    ...temporal,
    connection,
    posting: postingClient,
    settings,
    workflowBundle: await workflowBundle(log),
  });

  // Worker.run() handles SIGINT/SIGTERM itself: stops polling and lets running activities finish.
  const running = worker.run();
  log.info(
    {
      taskQueue: temporal.taskQueue,
      temporal: describeTemporalConnection(temporal),
      postingServiceUrl: posting.baseUrl,
    },
    'worker running',
  );
  await running;
  await postingClient.close();
  await connection.close();
  log.info('worker stopped');
});
