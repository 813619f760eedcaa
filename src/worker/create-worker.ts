import {
  NativeConnection,
  Worker,
  type WorkerDeploymentOptions,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { IntakeFirstSlots } from './intake-first-slots';
import {
  createCallbackActivities,
  createPostingActivities,
  type CallbackSenderSettings,
} from '../activities';
import { createCallbackSender, type CallbackSender } from '../callbacks/sender';
import type { PostingClient } from '../posting/posting-client';
import type { CircuitBreaker } from '../posting/circuit-breaker';
import type { WorkerSettings, WorkerVersion } from '../config/worker';
import type { Tracing } from '../tracing/load';

export interface TxWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  posting: PostingClient;
  /** The circuit breaker `posting` feeds (posting/breaker-client.ts); absent: every call goes out. */
  breaker?: CircuitBreaker;
  /** Whether a posting rate cap is in force (rate-cap-watch.ts): local checks then make no call; absent: never. */
  capInForce?: () => boolean;
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
  /** Workflow-task slots that give way to intake (intake-first-slots.ts); absent: a fixed count. */
  workflowSlots?: IntakeFirstSlots;
}

export function createTxWorker(deps: TxWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle,
    activities: {
      ...createPostingActivities(deps.posting, deps.breaker, deps.capInForce),
      ...createCallbackActivities(
        deps.callbacks?.settings ?? { signingSecret: undefined, allowedHosts: [] },
        deps.callbacks?.sender ?? createCallbackSender([]),
      ),
    },
    shutdownGraceTime: deps.settings.shutdownGraceMs,
    ...slots(deps),
    maxCachedWorkflows: deps.settings.maxCachedWorkflows,
    ...(deps.settings.version && { workerDeploymentOptions: versioned(deps.settings.version) }),
    ...deps.tracing?.workerOptions,
    // Every check, post and look is one activity task: the server dispatches at most this many per second
    // across all workers; an operator's run-time value overrides it (docs/decisions/0008).
    ...(deps.settings.postingMaxPerSecond !== undefined && {
      maxTaskQueueActivitiesPerSecond: deps.settings.postingMaxPerSecond,
    }),
    // Eager activities skip the server's dispatch and so its rate limit (off on our servers by default).
    maxEagerActivityReservationsPerWorkflowTask: 0,
  });
}

/** The SDK's fixed slot counts, or the same counts with workflow-task slots that give way to intake. */
function slots(deps: TxWorkerDeps): Partial<WorkerOptions> {
  const { settings, workflowSlots } = deps;
  if (!workflowSlots) {
    return {
      maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
    };
  }
  const fixed = (numSlots: number) => ({ type: 'fixed-size' as const, numSlots });
  return {
    // The pollers the SDK gives these counts without a tuner (with one, it always gives 10).
    workflowTaskPollerBehavior: {
      type: 'simple-maximum',
      maximum: Math.min(10, settings.maxConcurrentWorkflowTasks),
    },
    activityTaskPollerBehavior: {
      type: 'simple-maximum',
      maximum: Math.min(10, settings.maxConcurrentActivities),
    },
    tuner: {
      workflowTaskSlotSupplier: workflowSlots,
      activityTaskSlotSupplier: fixed(settings.maxConcurrentActivities),
      // The SDK's defaults without a tuner.
      localActivityTaskSlotSupplier: fixed(100),
      nexusTaskSlotSupplier: fixed(100),
    },
  };
}

/**
 * A versioned worker takes only the tasks Temporal routes to its Worker Deployment Version. Pinned by default:
 * a run stays on the version it started on, so new code never replays an old history (decision 0022). Each
 * workflow type also declares its behaviour in its own file; this default covers a type that forgets to.
 */
function versioned(version: WorkerVersion): WorkerDeploymentOptions {
  return { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' };
}
