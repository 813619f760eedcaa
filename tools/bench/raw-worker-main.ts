import { NativeConnection, Worker } from '@temporalio/worker';
import { runMain } from '../../src/config/env';
import { createLogger } from '../../src/config/logger';
import { temporalConnectionOptions, temporalSettings } from '../../src/config/temporal';
import { workerSettings } from '../../src/config/worker';
import { benchActivities } from './bench-activities';

// The raw baseline's worker: same settings as txflow's worker, no-op activities.
void runMain(async () => {
  const temporal = temporalSettings();
  const settings = workerSettings();
  const log = createLogger('bench-worker');
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporal));
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: benchActivities,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: settings.maxCachedWorkflows,
  });
  const running = worker.run();
  log.info({ taskQueue: temporal.taskQueue }, 'worker running');
  await running;
  await connection.close();
});
