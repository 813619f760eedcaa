import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from '../config/logger';
import {
  describeTemporalConnection,
  temporalConnectionOptions,
  type TemporalSettings,
} from '../config/temporal';
import type { WorkerSettings } from '../config/worker';
import type { Tracing } from '../tracing/load';
import type { CallbackSettings } from '../config/callbacks';
import { createCallbackSender } from '../callbacks/sender';
import {
  createPostingClient,
  type PostingClient,
  type PostingClientOptions,
} from '../posting/posting-client';
import { withBreaker } from '../posting/breaker-client';
import type { BreakerState } from '../posting/circuit-breaker';
import { createTxWorker } from './create-worker';
import { IntakeFirstSlots } from './intake-first-slots';
import { IntakeWatch } from './intake-watch';
import { RateCapWatch } from './rate-cap-watch';
import { assertSearchAttributes } from './search-attributes-check';
import { workflowBundle } from './workflow-bundle';

export interface WorkerProcessOptions {
  temporal: TemporalSettings;
  posting: PostingClientOptions;
  settings: WorkerSettings;
  /** CALLBACK_*: the worker signs and sends the callbacks. */
  callbacks: CallbackSettings;
  log: Logger;
  /**
   * Signals on which the SDK stops the worker by itself (its default: SIGINT, SIGTERM, SIGQUIT, SIGUSR2).
   * `[]` when the caller stops it with shutdown(), e.g. the all-in-one process, once its API has answered.
   */
  shutdownSignals?: NodeJS.Signals[];
  /** Tracing on (OTEL_EXPORTER_OTLP_ENDPOINT): workflow, activity and downstream HTTP spans. */
  tracing?: Tracing;
}

export interface TxWorkerProcess {
  /** The worker's connection; an in-process Client on it can have workflows started eagerly. */
  connection: NativeConnection;
  /**
   * Polls until the worker is shut down, then closes the posting client and the connection. Rejects if the
   * worker fails.
   */
  run(): Promise<void>;
  /**
   * Stops polling and lets running activities finish (WORKER_SHUTDOWN_GRACE_MS); run() then resolves. Does
   * nothing unless the worker is running.
   */
  shutdown(): void;
}

/** The worker process's set-up: SDK runtime, connection, search-attribute check and worker. */
export async function createWorkerProcess(options: WorkerProcessOptions): Promise<TxWorkerProcess> {
  const { temporal, posting, settings, log } = options;

  // Must come before any connection or worker exists.
  Runtime.install({
    // SDK and Core logs as pino lines too; the bundler's chatter stays at debug.
    logger: new DefaultLogger(sdkLogLevel(log.level), ({ level, message, meta }) => {
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
    ...(options.shutdownSignals && { shutdownSignals: options.shutdownSignals }),
  });

  // TLS, mTLS and the API key from TEMPORAL_TLS_* / TEMPORAL_API_KEY (validated above, files already read).
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporal));
  await assertSearchAttributes(connection, temporal.namespace);
  const { tracing } = options;
  const { posting: postingClient, breaker } = breakerFor(
    createPostingClient({ ...posting, ...(tracing && { traced: tracing.tracedCall }) }),
    settings,
    log,
  );
  const callbackSender = createCallbackSender(options.callbacks.allowedHosts);
  const rateCap = new RateCapWatch({
    connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    ownCap: settings.postingMaxPerSecond !== undefined,
    log,
  });
  await rateCap.start();
  const intake = intakeFirst(connection, temporal, settings, log);
  const worker = await createTxWorker({
    ...temporal,
    connection,
    posting: postingClient,
    breaker,
    capInForce: () => rateCap.inForce,
    settings,
    workflowBundle: await workflowBundle(log, { traced: tracing !== undefined }),
    callbacks: { settings: options.callbacks, sender: callbackSender },
    ...(tracing && { tracing }),
    ...(intake && { workflowSlots: intake.slots }),
  });

  return {
    connection,
    async run() {
      // Worker.run() handles the runtime's shutdown signals itself: stops polling, lets activities finish.
      const running = worker.run();
      intake?.watch.start();
      log.info(
        {
          taskQueue: temporal.taskQueue,
          temporal: describeTemporalConnection(temporal),
          postingServiceUrl: posting.baseUrl,
          // Temporal's name for it (deployment.buildId): what `temporal workflow describe` shows per run.
          workerVersion: settings.version
            ? `${settings.version.deploymentName}.${settings.version.buildId}`
            : 'unversioned',
        },
        'worker running',
      );
      await running;
      rateCap.stop();
      intake?.watch.stop();
      await postingClient.close();
      await callbackSender.close();
      await connection.close();
      log.info('worker stopped');
    },
    shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

/** WORKER_INTAKE_WORKFLOW_TASKS above 0: slots that give way while intake outpaces the worker (decision 0030). */
function intakeFirst(
  connection: NativeConnection,
  temporal: TemporalSettings,
  settings: WorkerSettings,
  log: Logger,
) {
  if (settings.intakeWorkflowTasks === 0) return undefined;
  const slots = new IntakeFirstSlots(settings.maxConcurrentWorkflowTasks, settings.intakeWorkflowTasks);
  // On the worker's /metrics (WORKER_METRICS_ADDRESS): 1 while it gives way to intake.
  const gauge = Runtime.instance().metricMeter.createGauge(
    'txflow_intake_giving_way',
    'int',
    '1',
    'Whether the worker holds only WORKER_INTAKE_WORKFLOW_TASKS workflow-task slots: 1 while intake outpaces it',
  );
  gauge.set(0);
  const watch = new IntakeWatch({
    connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    log,
    onChange: (on) => {
      slots.intake = on;
      gauge.set(on ? 1 : 0);
      log.debug({ intake: on }, 'workflow-task slots follow intake');
    },
  });
  return { slots, watch };
}

/** The SDK's logger passes on what LOG_LEVEL lets through (debug: its per-activity lines, with trace IDs). */
function sdkLogLevel(level: string): 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' {
  if (level === 'trace') return 'TRACE';
  if (level === 'debug') return 'DEBUG';
  if (level === 'warn') return 'WARN';
  if (level === 'error' || level === 'fatal' || level === 'silent') return 'ERROR';
  return 'INFO';
}

/** The posting client behind the circuit breaker, when BREAKER_ENABLED; its state changes are logged. */
function breakerFor(client: PostingClient, settings: WorkerSettings, log: Logger) {
  if (!settings.breaker) return { posting: client, breaker: undefined };
  // On the worker's /metrics (WORKER_METRICS_ADDRESS): 0 closed, 1 half-open, 2 open.
  const gauge = Runtime.instance().metricMeter.createGauge(
    'txflow_breaker_state',
    'int',
    '1',
    "The worker's circuit breaker: 0 closed, 1 half-open (trial POSTs), 2 open",
  );
  gauge.set(0);
  return withBreaker(client, settings.breaker, {
    onChange: (state, why) => {
      gauge.set(BREAKER_STATE_VALUE[state]);
      (state === 'open' ? log.warn : log.info).call(
        log,
        { breaker: state },
        `circuit breaker ${state}: ${why}`,
      );
    },
  });
}

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
