import { runMain } from '../config/env';
import { createLogger } from '../config/logger';
import { writeWorkflowBundle } from './workflow-bundle';

// `npm run build` step: the workflow bundle the worker loads at start.
void runMain(async () => {
  const log = createLogger('bundle');
  log.info({ path: await writeWorkflowBundle(log) }, 'workflow bundle written');
});
