import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../config/logger';

const WORKFLOW = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW;

export interface IntakeWatchDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Told whenever intake starts or stops outpacing the worker. */
  onChange(intake: boolean): void;
  everyMs?: number;
  /** Reads in a row without growth before intake is over. */
  quietReads?: number;
  /** Giving way lasts at most this long; then not again until the backlog has drained (a burst, not an overload). */
  maxDeferMs?: number;
  now?: () => number;
  log: Logger;
}

/**
 * Whether new workflows arrive faster than this task queue's workers take them: the backlog of the workflow task
 * queue's root partition grew since the last read (a few ms of server work every 200 ms). Its stats summary is
 * cached by the server for seconds; the partition's own status is live (decision 0030).
 */
export class IntakeWatch {
  #timer: NodeJS.Timeout | undefined;
  #last: number | undefined;
  #quiet = 0;
  #intake = false;
  #since = 0;
  #holdUntilDrained = false;
  #reading = false;

  constructor(private readonly deps: IntakeWatchDeps) {}

  start(): void {
    this.#timer = setInterval(() => void this.read(), this.deps.everyMs ?? 200);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#set(false);
  }

  async read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const { connection, namespace, taskQueue } = this.deps;
      const described = await connection.withDeadline(Date.now() + 2_000, () =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: 1 },
          taskQueueType: WORKFLOW,
          includeTaskQueueStatus: true,
        }),
      );
      this.observe(Number(described.taskQueueStatus?.backlogCountHint ?? 0));
    } catch (err) {
      // No reading, no deferral: the worker takes every slot.
      this.#last = undefined;
      this.#set(false);
      this.deps.log.debug({ err }, 'could not read the workflow backlog');
    } finally {
      this.#reading = false;
    }
  }

  /**
   * One backlog reading: growth means intake; quietReads readings without growth end it. Intake that outlasts
   * maxDeferMs is an overload, not a burst: the worker then takes every slot until the backlog is empty.
   */
  observe(backlog: number): void {
    const now = (this.deps.now ?? Date.now)();
    const grew = this.#last !== undefined && backlog > this.#last;
    this.#last = backlog;
    if (backlog === 0) this.#holdUntilDrained = false;
    if (this.#intake && now - this.#since > (this.deps.maxDeferMs ?? 10_000)) {
      this.#holdUntilDrained = true;
      this.deps.log.info(
        { backlog },
        'intake outlasted the deferral: every workflow-task slot until drained',
      );
    }
    if (grew && !this.#holdUntilDrained) {
      this.#quiet = 0;
      this.#set(true, now);
    } else if (this.#holdUntilDrained || ++this.#quiet >= (this.deps.quietReads ?? 2)) {
      this.#set(false, now);
    }
  }

  #set(intake: boolean, now = 0): void {
    if (intake === this.#intake) return;
    this.#intake = intake;
    this.#since = now;
    this.deps.onChange(intake);
  }
}
