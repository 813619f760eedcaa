import type { CustomSlotSupplier, SlotPermit, WorkflowSlotInfo } from '@temporalio/worker';

/**
 * Workflow-task slots that give way to intake: all `max` while the worker keeps up, only `duringIntake` while new
 * workflows arrive faster than it takes them (IntakeWatch says so). Acknowledgements and processing share one
 * Temporal server; a submission's client waits for its start, a started transaction does not (decision 0030).
 */
export class IntakeFirstSlots implements CustomSlotSupplier<WorkflowSlotInfo> {
  readonly type = 'custom';
  #used = 0;
  #intake = false;
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly max: number,
    readonly duringIntake: number,
  ) {}

  /** Slots handed out now (reserved polls and running tasks). */
  get used(): number {
    return this.#used;
  }

  get limit(): number {
    return this.#intake ? this.duringIntake : this.max;
  }

  /** Intake outpaces the worker (true) or not: the limit follows; slots above it are not taken back. */
  set intake(on: boolean) {
    this.#intake = on;
    this.#wake();
  }

  get intake(): boolean {
    return this.#intake;
  }

  async reserveSlot(_ctx: unknown, abortSignal: AbortSignal): Promise<SlotPermit> {
    while (this.#used >= this.limit) {
      abortSignal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          this.#waiters.delete(done);
          abortSignal.removeEventListener('abort', aborted);
          resolve();
        };
        const aborted = () => {
          this.#waiters.delete(done);
          reject(abortSignal.reason);
        };
        this.#waiters.add(done);
        abortSignal.addEventListener('abort', aborted, { once: true });
      });
    }
    this.#used++;
    return {};
  }

  tryReserveSlot(): SlotPermit | null {
    if (this.#used >= this.limit) return null;
    this.#used++;
    return {};
  }

  markSlotUsed(): void {}

  releaseSlot(): void {
    this.#used--;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
