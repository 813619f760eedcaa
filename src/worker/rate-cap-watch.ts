import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../config/logger';
import { postingRateOf } from '../domain/posting-rate';

const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
const REFRESH_MS = 5_000;

export interface RateCapWatchDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** POSTING_MAX_PER_SECOND of this worker: a cap of its own, in force whatever the server says. */
  ownCap: boolean;
  log: Logger;
}

/**
 * Whether a posting rate cap is in force on the task queue: this worker's POSTING_MAX_PER_SECOND, another
 * worker's, or an operator's cap set at run time (decision 0008), read from the server every 5 s. Temporal applies the cap to
 * activity tasks only, so while it is in force a local check makes no call (CheckDeferredToCap) and the check
 * goes through the capped task queue (decision 0023). While a read gets no answer, a cap is assumed.
 */
export class RateCapWatch {
  private queueCap = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RateCapWatchDeps) {}

  get inForce(): boolean {
    return this.deps.ownCap || this.queueCap;
  }

  /** Reads the cap once, then every 5 s until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    const { connection, namespace, taskQueue } = this.deps;
    try {
      const described = await connection.withDeadline(Date.now() + REFRESH_MS, () =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: 1 },
          taskQueueType: ACTIVITY,
          reportConfig: true,
        }),
      );
      // The operator's value, or any worker's POSTING_MAX_PER_SECOND (the server's own default is no cap).
      const capped = postingRateOf(described.config, described.effectiveRateLimit).max_per_second !== null;
      if (capped !== this.queueCap) this.deps.log.info({ capped }, 'posting rate cap read');
      this.queueCap = capped;
    } catch (err) {
      // Fail closed: a cap set while the server did not answer must not be bypassed. The next read is in 5 s.
      this.queueCap = true;
      this.deps.log.warn({ err }, 'could not read the posting rate cap: local checks deferred meanwhile');
    }
  }
}
