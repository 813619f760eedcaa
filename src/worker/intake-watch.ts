import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../config/logger';

const WORKFLOW = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW;

export interface IntakeWatchDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Told whenever the worker starts or stops giving way to intake. */
  onChange(intake: boolean): void;
  everyMs?: number;
  /** Reads in a row with growth before intake begins. */
  startReads?: number;
  /** Reads in a row without growth before intake is over. */
  quietReads?: number;
  /** The root partition's backlog below which growth is no intake (a worker that keeps up has none). */
  minBacklog?: number;
  /**
   * Growth per read below which it is no intake: while the worker gives way any arrival grows the backlog, and a
   * steady load it can take (under about 10 per second per partition) must not keep it giving way.
   */
  minGrowth?: number;
  /**
   * How long the worker gives way from the first growth after the backlog was last empty: longer is an overload,
   * not a burst, and the worker then takes every slot until the backlog reads empty again.
   */
  maxDeferMs?: number;
  now?: () => number;
  log: Logger;
}

/**
 * Whether new workflows arrive faster than this task queue's workers take them, from the backlog of the workflow
 * task queue's root partition (one DescribeTaskQueue every 200 ms). The server caches its stats summary for
 * seconds; the partition's own status is live (decision 0030). No reading means no giving way.
 */
export class IntakeWatch {
  #timer: NodeJS.Timeout | undefined;
  #last: number | undefined;
  #quiet = 0;
  /** Reads in a row that grew. */
  #growing = 0;
  #intake = false;
  /** When the backlog first grew since it was last empty; undefined while it is empty. */
  #episodeStart: number | undefined;
  #holdUntilDrained = false;
  #readingSince: number | undefined;
  #failing = false;
  #stopped = false;

  constructor(private readonly deps: IntakeWatchDeps) {}

  start(): void {
    this.#timer = setInterval(() => void this.read(), this.deps.everyMs ?? 200);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#set(false);
  }

  async read(): Promise<void> {
    const now = this.#now();
    if (this.#readingSince !== undefined) {
      // A read the connection keeps retrying: no answer, no giving way.
      if (now - this.#readingSince > 1_000) this.#unknown();
      return;
    }
    this.#readingSince = now;
    try {
      const backlog = await this.#backlog();
      if (this.#stopped) return;
      if (this.#failing) this.deps.log.info('workflow backlog readable again');
      this.#failing = false;
      if (backlog === undefined) this.#unknown();
      else this.observe(backlog);
    } catch (err) {
      if (!this.#failing)
        this.deps.log.warn({ err }, 'cannot read the workflow backlog: every slot meanwhile');
      this.#failing = true;
      this.#unknown();
    } finally {
      this.#readingSince = undefined;
    }
  }

  /**
   * One backlog reading: startReads readings in a row with growth begin intake; quietReads readings without growth
   * end it. The worker gives way once per episode (from the first growth until the backlog reads empty again), for
   * at most maxDeferMs.
   */
  observe(backlog: number): void {
    const now = this.#now();
    const grew =
      this.#last !== undefined &&
      backlog - this.#last >= (this.deps.minGrowth ?? 2) &&
      backlog >= (this.deps.minBacklog ?? 4);
    this.#last = backlog;
    if (backlog === 0) {
      this.#episodeStart = undefined;
      this.#holdUntilDrained = false;
    } else if (grew) {
      this.#episodeStart ??= now;
    }
    if (!this.#holdUntilDrained && this.#episodeStart !== undefined) {
      if (now - this.#episodeStart > (this.deps.maxDeferMs ?? 10_000)) {
        this.#holdUntilDrained = true;
        this.deps.log.info(
          { backlog },
          'intake outlasted the deferral: every workflow-task slot until drained',
        );
      }
    }
    this.#growing = grew ? this.#growing + 1 : 0;
    // Two reads in a row to begin (one can be a pause of the worker's), one each to go on.
    const startReads = this.#intake ? 1 : (this.deps.startReads ?? 2);
    if (this.#growing >= startReads && !this.#holdUntilDrained) {
      this.#quiet = 0;
      this.#set(true);
    } else if (this.#holdUntilDrained || (this.#intake && ++this.#quiet >= (this.deps.quietReads ?? 2))) {
      // Once per episode: near the worker's capacity a backlog drains slowly and its jitter looks like growth.
      if (this.#intake) this.#holdUntilDrained = true;
      this.#set(false);
    }
  }

  async #backlog(): Promise<number | undefined> {
    const { connection, namespace, taskQueue } = this.deps;
    const described = await connection.withDeadline(Date.now() + 1_000, () =>
      connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: 1 },
        taskQueueType: WORKFLOW,
        includeTaskQueueStatus: true,
      }),
    );
    const hint = described.taskQueueStatus?.backlogCountHint;
    return hint === undefined || hint === null ? undefined : Number(hint);
  }

  #unknown(): void {
    this.#last = undefined;
    this.#set(false);
  }

  #now(): number {
    // Monotonic: a clock stepped back must not lengthen giving way.
    return this.deps.now ? this.deps.now() : performance.now();
  }

  #set(intake: boolean): void {
    if (intake === this.#intake || (intake && this.#stopped)) return;
    this.#intake = intake;
    this.deps.onChange(intake);
  }
}
