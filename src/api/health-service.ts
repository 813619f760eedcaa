import type { Client } from '@temporalio/client';
import { asTemporalUnavailable } from './temporal-errors';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  uptime_seconds: number;
  temporal: { reachable: boolean; latency_ms: number | null; error?: string };
  /** Transactions accepted and not yet completed or failed (visibility count). */
  queue_depth: number | null;
  task_queue: {
    name: string;
    workflow_backlog: number | null;
    activity_backlog: number | null;
    workers_polling: number | null;
  };
  /** Share of transactions that failed among those that finished in the window. */
  error_rate: { window_seconds: number; finished: number | null; failed: number | null; rate: number | null };
  checked_at: string;
}

export interface HealthServiceDeps {
  client: Client;
  taskQueue: string;
  windowMs: number;
  rpcTimeoutMs: number;
  startedAt: number;
}

const CACHE_MS = 1_000;
const WORKFLOW = 1;
const ACTIVITY = 2;

/** Health figures from Temporal itself, cached for a second so probes cost the server little. */
export class HealthService {
  private cached?: { at: number; report: Promise<HealthReport> };

  constructor(private readonly deps: HealthServiceDeps) {}

  report(): Promise<HealthReport> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) this.cached = { at: now, report: this.measure(now) };
    return this.cached.report;
  }

  private async measure(now: number): Promise<HealthReport> {
    const { client, taskQueue, windowMs, startedAt } = this.deps;
    const base: HealthReport = {
      status: 'unavailable',
      uptime_seconds: Math.round((now - startedAt) / 1000),
      temporal: { reachable: false, latency_ms: null },
      queue_depth: null,
      task_queue: { name: taskQueue, workflow_backlog: null, activity_backlog: null, workers_polling: null },
      error_rate: { window_seconds: windowMs / 1000, finished: null, failed: null, rate: null },
      checked_at: new Date(now).toISOString(),
    };
    try {
      const ours = `WorkflowType = "processTransaction" AND TaskQueue = "${taskQueue}"`;
      const since = new Date(now - windowMs).toISOString();
      const [open, finished, failed, workflowQueue, activityQueue] = await this.rpc(() =>
        Promise.all([
          client.workflow.count(`${ours} AND ExecutionStatus = "Running"`),
          client.workflow.count(`${ours} AND ExecutionStatus != "Running" AND CloseTime > "${since}"`),
          client.workflow.count(
            `${ours} AND ExecutionStatus != "Running" AND ExecutionStatus != "Completed" AND CloseTime > "${since}"`,
          ),
          this.describeQueue(WORKFLOW),
          this.describeQueue(ACTIVITY),
        ]),
      );
      return {
        ...base,
        status: 'ok',
        temporal: { reachable: true, latency_ms: Date.now() - now },
        queue_depth: open.count,
        task_queue: {
          name: taskQueue,
          workflow_backlog: Number(workflowQueue.stats?.approximateBacklogCount ?? 0),
          activity_backlog: Number(activityQueue.stats?.approximateBacklogCount ?? 0),
          workers_polling: new Set(
            [...(workflowQueue.pollers ?? []), ...(activityQueue.pollers ?? [])].map((p) => p.identity),
          ).size,
        },
        error_rate: {
          window_seconds: windowMs / 1000,
          finished: finished.count,
          failed: failed.count,
          rate: finished.count === 0 ? 0 : failed.count / finished.count,
        },
      };
    } catch (err) {
      const cause = asTemporalUnavailable(err);
      return { ...base, temporal: { reachable: false, latency_ms: null, error: (cause as Error).name } };
    }
  }

  private describeQueue(taskQueueType: number) {
    return this.deps.client.workflowService.describeTaskQueue({
      namespace: this.deps.client.options.namespace,
      taskQueue: { name: this.deps.taskQueue, kind: 1 },
      taskQueueType,
      reportStats: true,
    });
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.client.connection.withDeadline(Date.now() + this.deps.rpcTimeoutMs, fn);
  }
}
