import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { callbackSettings } from '../config/callbacks';
import { postingSettings } from '../config/posting';
import { temporalSettings } from '../config/temporal';
import { tracingSettings } from '../config/tracing';
import { workerSettings } from '../config/worker';
import { loadTracing } from '../tracing/load';
import { createWorkerProcess } from './run-worker';

void runMain(async () => {
  const temporal = temporalSettings();
  const posting = postingSettings();
  const settings = workerSettings();
  const callbacks = callbackSettings();
  const tracingConfig = tracingSettings('txflow-worker');
  const log = createLogger('worker');

  const tracing = await loadTracing(tracingConfig);
  // The SDK stops it on SIGINT/SIGTERM: no more polls, running activities finish.
  const worker = await createWorkerProcess({
    temporal,
    posting,
    settings,
    callbacks,
    log,
    ...(tracing && { tracing }),
  });
  await worker.run();
  // Then the spans still buffered go out (the last activities' and workflow tasks').
  await tracing?.shutdown();
});
