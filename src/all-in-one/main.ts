// `npm run all-in-one`: the API and the worker in one Node process, the API's client on the worker's
// NativeConnection, so Temporal can hand a new run's first workflow task straight back to this process's
// worker in the start response (eager workflow start, EAGER_WORKFLOW_START). SIGTERM/SIGINT: the API stops
// first (in-flight requests answered), then the worker (running activities finish), exit 0. A worker failure
// ends the process.
import { allInOneSettings } from '../config/all-in-one';
import { callbackSettings } from '../config/callbacks';
import { apiSettings } from '../config/api';
import { runMain } from '../config/env';
import { createLoggers } from '../config/logger';
import { processingPolicy } from '../config/policy';
import { postingSettings } from '../config/posting';
import { temporalSettings } from '../config/temporal';
import { tracingSettings } from '../config/tracing';
import { workerSettings } from '../config/worker';
import { loadTracing } from '../tracing/load';
import { serveApi } from '../api/http/serve';
import { clientOn } from '../api/temporal/temporal-client';
import { createWorkerProcess } from '../worker/run-worker';

void runMain(async () => {
  // Every setting of both halves first: a bad value stops the process before anything starts.
  const temporal = temporalSettings();
  const posting = postingSettings();
  const workerConfig = workerSettings();
  const api = apiSettings();
  const policy = processingPolicy();
  const allInOne = allInOneSettings();
  // An eager start hands the run to this process's worker whatever the current version is: a versioned worker
  // (WORKER_BUILD_ID) would pin new runs to its own build mid-rollout. Routed starts follow the rollout.
  const eagerStart = allInOne.eagerStart && workerConfig.version === undefined;
  const callbacks = callbackSettings();
  const tracingConfig = tracingSettings('txflow-all-in-one');
  const { 'all-in-one': log, api: apiLog, worker: workerLog } = createLoggers('all-in-one', 'api', 'worker');

  // Until the worker runs nothing has been accepted or picked up: a stop signal just ends the process.
  let onStopSignal: (signal: string) => void = (signal) => {
    log.info({ signal }, 'stopped during start-up');
    process.exit(0);
  };
  for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, (signal) => onStopSignal(signal));

  const tracing = await loadTracing(tracingConfig);
  // No SDK signal handling: the worker must outlive the API's in-flight requests (their queries and starts).
  const worker = await createWorkerProcess({
    temporal,
    posting,
    settings: workerConfig,
    callbacks,
    log: workerLog,
    shutdownSignals: [],
    ...(tracing && { tracing }),
  });
  const workerDone = worker.run();
  workerDone.catch(() => undefined); // awaited below; an early failure is reported there
  const stopSignal = new Promise<string>((resolve) => (onStopSignal = resolve));

  const served = await serveApi({
    // The API's health probes the downstream this process posts to.
    settings: { ...api, postingServiceUrl: api.postingServiceUrl ?? posting.baseUrl },
    temporal,
    policy,
    callbacks,
    client: clientOn(worker.connection, temporal.namespace, { interceptors: tracing?.clientInterceptors }),
    logger: apiLog,
    eagerStart,
    ...(tracing && { requestSpans: tracing.requestSpans }),
  });
  log.info(
    {
      url: `http://${api.host}:${api.port}`,
      eager_start: eagerStart,
      ...(allInOne.eagerStart &&
        !eagerStart && { eager_start_off: 'versioned worker: starts follow the current version' }),
    },
    'all-in-one running',
  );

  let stopRequested = false;
  void stopSignal.then(async (signal) => {
    stopRequested = true;
    // Logged once the server no longer accepts: whoever reads the line finds new connections refused.
    const apiStopped = served.stop();
    apiLog.info({ signal }, 'api stopping');
    try {
      await apiStopped;
      apiLog.info('api stopped');
    } finally {
      worker.shutdown();
    }
  });

  // A worker failure rejects here: runMain exits 1 and the API goes with it.
  await workerDone;
  if (!stopRequested) throw new Error('the worker stopped without a stop signal');
  const { started, eagerlyStarted } = await served.metrics.startCounts();
  log.info({ workflow_starts: started, eagerly_started: eagerlyStarted }, 'all-in-one stopped');
  await tracing?.shutdown().catch((err: unknown) => log.warn({ err }, 'flushing the traces failed'));
  process.exit(0);
});
