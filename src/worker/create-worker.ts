import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import {
  createCallbackActivities,
  createPostingActivities,
  type CallbackSenderSettings,
} from '../activities';
import { createCallbackSender, type CallbackSender } from '../callbacks/sender';
import type { PostingClient } from '../posting/posting-client';
import type { WorkerSettings } from '../config/worker';
import type { Tracing } from '../tracing/load';

export interface TxWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  posting: PostingClient;
  settings: WorkerSettings;
  /** The workflow code, bundled (see workflow-bundle.ts). */
  workflowBundle: WorkflowBundleOption;
  /** Signing and sending callbacks; absent: deliveries fail (retried) until a worker with the secret takes them. */
  callbacks?: { settings: CallbackSenderSettings; sender: CallbackSender };
  /**
   * Tracing on: activity spans, and the sink through which the workflow interceptors (in the traced bundle)
   * export their spans. The bundle must then be the traced one (workflow-bundle.ts).
   */
  tracing?: Tracing;
}

export function createTxWorker(deps: TxWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle,
    activities: {
      ...createPostingActivities(deps.posting),
      ...createCallbackActivities(
        deps.callbacks?.settings ?? { signingSecret: undefined, allowedHosts: [] },
        deps.callbacks?.sender ?? createCallbackSender([]),
      ),
    },
    shutdownGraceTime: deps.settings.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: deps.settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: deps.settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: deps.settings.maxCachedWorkflows,
    ...deps.tracing?.workerOptions,
  });
}
