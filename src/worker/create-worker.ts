import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import {
  createCallbackActivities,
  createPostingActivities,
  type CallbackSenderSettings,
} from '../activities';
import { createCallbackSender, type CallbackSender } from '../callbacks/sender';
import type { PostingClient } from '../posting/posting-client';
import type { CircuitBreaker } from '../posting/circuit-breaker';
import type { WorkerSettings } from '../config/worker';

export interface TxWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  posting: PostingClient;
  /** The circuit breaker `posting` feeds (posting/breaker-client.ts); absent: every call goes out. */
  breaker?: CircuitBreaker;
  settings: WorkerSettings;
  /** The workflow code, bundled (see workflow-bundle.ts). */
  workflowBundle: WorkflowBundleOption;
  /** Signing and sending callbacks; absent: deliveries fail (retried) until a worker with the secret takes them. */
  callbacks?: { settings: CallbackSenderSettings; sender: CallbackSender };
}

export function createTxWorker(deps: TxWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle,
    activities: {
      ...createPostingActivities(deps.posting, deps.breaker),
      ...createCallbackActivities(
        deps.callbacks?.settings ?? { signingSecret: undefined, allowedHosts: [] },
        deps.callbacks?.sender ?? createCallbackSender([]),
      ),
    },
    shutdownGraceTime: deps.settings.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: deps.settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: deps.settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: deps.settings.maxCachedWorkflows,
  });
}
