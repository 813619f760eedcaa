import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { asTemporalUnavailable } from '../temporal/temporal-errors';
import { postingRateOf, type PostingRate } from '../../domain/posting-rate';

const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;

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
