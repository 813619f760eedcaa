import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { writeWorkflowBundle } from './workflow-bundle';

// `npm run build` step: the workflow bundles the worker loads at start, without and with tracing.
void runMain(async () => {
  const log = createLogger('bundle');
  log.info({ path: await writeWorkflowBundle(log) }, 'workflow bundle written');
  log.info({ path: await writeWorkflowBundle(log, { traced: true }) }, 'workflow bundle written');
});
