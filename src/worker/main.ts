import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { callbackSettings } from '../config/callbacks';
import { postingSettings } from '../config/posting';
import { temporalSettings } from '../config/temporal';
import { workerSettings } from '../config/worker';
import { createWorkerProcess } from './run-worker';

void runMain(async () => {
  const temporal = temporalSettings();
  const posting = postingSettings();
  const settings = workerSettings();
  const callbacks = callbackSettings();
  const log = createLogger('worker');

  // The SDK stops it on SIGINT/SIGTERM: no more polls, running activities finish.
  const worker = await createWorkerProcess({ temporal, posting, settings, callbacks, log });
  await worker.run();
});
