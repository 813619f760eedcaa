import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createPostingActivities } from '../activities';
import type { PostingClient } from '../posting/posting-client';
import type { WorkerSettings } from '../config/worker';

export interface TxWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  posting: PostingClient;
  settings: WorkerSettings;
  /** The workflow code, bundled (see workflow-bundle.ts). */
  workflowBundle: WorkflowBundleOption;
}

export function createTxWorker(deps: TxWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle,
    activities: createPostingActivities(deps.posting),
    shutdownGraceTime: deps.settings.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: deps.settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: deps.settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: deps.settings.maxCachedWorkflows,
  });
}
