import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createPostingActivities } from '../activities';
import type { PostingClient } from '../posting/posting-client';
import type { WorkerSettings } from '../config/worker';

export interface TxWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  posting: PostingClient;
  settings: WorkerSettings;
  /** A prebuilt bundle (tests build it once per suite); else the worker bundles src/workflows itself. */
  workflowBundle?: WorkflowBundle;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export function createTxWorker(deps: TxWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createPostingActivities(deps.posting),
    shutdownGraceTime: deps.settings.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: deps.settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: deps.settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: deps.settings.maxCachedWorkflows,
  });
}
