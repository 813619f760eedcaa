import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { asTemporalUnavailable } from '../temporal/temporal-errors';

const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
const Source = temporal.api.enums.v1.RateLimitSource;

/**
 * Where the cap in force comes from: `operator` (set at run time, wins), `worker` (the workers'
 * POSTING_MAX_PER_SECOND), `none` (no cap of ours; the server's own default limit applies).
 */
export type PostingRateSource = 'operator' | 'worker' | 'none';

export interface PostingRate {
  /** Activity tasks (downstream calls) per second across all workers; null: no cap. */
  max_per_second: number | null;
  source: PostingRateSource;
  /** The operator's value (null: none set), and who set it when, as Temporal records it. */
  operator: { max_per_second: number | null; reason: string | null; updated_at: string | null };
}

export interface PostingRateDeps {
  client: Client;
  taskQueue: string;
  rpcTimeoutMs: number;
}

/**
 * The posting rate limit as Temporal holds it: the task queue's activity dispatch rate. The server enforces it
 * across every worker and keeps an operator's value (UpdateTaskQueueConfig) in the queue's own record, so it
 * survives restarts of the API, the workers and the server; docs/decisions/0008.
 */
export class PostingRateService {
  constructor(private readonly deps: PostingRateDeps) {}

  async current(): Promise<PostingRate> {
    const { client, taskQueue } = this.deps;
    const described = await this.rpc(() =>
      client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: 1 },
        taskQueueType: ACTIVITY,
        reportConfig: true,
      }),
    );
    return postingRateOf(described.config, described.effectiveRateLimit);
  }

  /** Sets the operator's cap (null: removes it, back to the workers' POSTING_MAX_PER_SECOND or none). */
  async set(maxPerSecond: number | null, identity: string): Promise<PostingRate> {
    const { client, taskQueue } = this.deps;
    await this.rpc(() =>
      client.workflowService.updateTaskQueueConfig({
        namespace: client.options.namespace,
        identity,
        taskQueue,
        taskQueueType: ACTIVITY,
        updateQueueRateLimit: {
          rateLimit: maxPerSecond === null ? null : { requestsPerSecond: maxPerSecond },
          reason: maxPerSecond === null ? 'posting rate cap removed' : `posting rate cap ${maxPerSecond}/s`,
        },
      }),
    );
    return this.current();
  }

  private async rpc<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.deps.client.connection.withDeadline(Date.now() + this.deps.rpcTimeoutMs, fn);
    } catch (err) {
      throw asTemporalUnavailable(err);
    }
  }
}

type Config = temporal.api.taskqueue.v1.ITaskQueueConfig | null | undefined;
type Effective =
  temporal.api.workflowservice.v1.DescribeTaskQueueResponse.IEffectiveRateLimit | null | undefined;

/** Pure: the rate from what DescribeTaskQueue answers (the effective rate and its source, the operator's config). */
export function postingRateOf(config: Config, effective: Effective): PostingRate {
  const set = config?.queueRateLimit;
  const operatorRate = set?.rateLimit ? round(set.rateLimit.requestsPerSecond ?? 0) : null;
  const seconds = set?.metadata?.updateTime?.seconds;
  const operator = {
    max_per_second: operatorRate,
    reason: set?.metadata?.reason || null,
    updated_at: seconds == null ? null : new Date(Number(seconds) * 1000).toISOString(),
  };
  if (operatorRate !== null) return { max_per_second: operatorRate, source: 'operator', operator };
  if (effective?.rateLimitSource === Source.RATE_LIMIT_SOURCE_WORKER) {
    return { max_per_second: round(effective.requestsPerSecond ?? 0), source: 'worker', operator };
  }
  return { max_per_second: null, source: 'none', operator };
}

// Temporal keeps the rate as a float32: 0.1 comes back as 0.10000000149.
const round = (n: number) => Math.round(n * 1000) / 1000;
