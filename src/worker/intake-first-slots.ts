import type {
  CustomSlotSupplier,
  SlotPermit,
  SlotMarkUsedContext,
  SlotReserveContext,
  SlotReleaseContext,
  WorkflowSlotInfo,
} from '@temporalio/worker';

type Kind = 'sticky' | 'normal';
interface IntakePermit extends SlotPermit {
  kind: Kind;
}

/**
 * Workflow-task slots that give way to intake: up to `max` while the worker keeps up, only `duringIntake` while new
 * workflows arrive faster than it takes them (IntakeWatch says so). Acknowledgements and processing share one
 * Temporal server; a submission's client waits for its start, a started transaction does not (decision 0030).
 *
 * The SDK reserves a slot before each poll, and its sticky pollers (a cached workflow's next task) outnumber the
 * normal ones (new workflows) 4 to 1. While giving way each kind therefore has its own share of `duringIntake`,
 * so that idle sticky polls never hold every slot and new workflows wait behind them.
 */
export class IntakeFirstSlots implements CustomSlotSupplier<WorkflowSlotInfo> {
  readonly type = 'custom';
  readonly #held: Record<Kind, number> = { sticky: 0, normal: 0 };
  #intake = false;
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly max: number,
    readonly duringIntake: number,
  ) {
    if (duringIntake < 2 || duringIntake > max) throw new RangeError('duringIntake must be 2..max');
  }

  /** Slots handed out now (reserved polls and running tasks), of each kind. */
  held(kind?: Kind): number {
    return kind ? this.#held[kind] : this.#held.sticky + this.#held.normal;
  }

  /** Intake outpaces the worker (true) or not: the limits follow; slots above them are not taken back. */
  set intake(on: boolean) {
    this.#intake = on;
    this.#wake();
  }

  get intake(): boolean {
    return this.#intake;
  }

  async reserveSlot(ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    const kind = kindOf(ctx);
    while (!this.#free(kind)) {
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
    return this.#take(kind);
  }

  tryReserveSlot(ctx: SlotReserveContext): SlotPermit | null {
    const kind = kindOf(ctx);
    return this.#free(kind) ? this.#take(kind) : null;
  }

  markSlotUsed(_ctx: SlotMarkUsedContext<WorkflowSlotInfo>): void {}

  releaseSlot(ctx: SlotReleaseContext<WorkflowSlotInfo>): void {
    const { kind } = ctx.permit as IntakePermit;
    this.#held[kind]--;
    this.#wake();
  }

  #free(kind: Kind): boolean {
    if (!this.#intake) return this.held() < this.max;
    // Normal polls get the larger half: they take the new workflows, sticky ones only what is in flight.
    const share = kind === 'normal' ? Math.ceil(this.duringIntake / 2) : Math.floor(this.duringIntake / 2);
    return this.#held[kind] < share && this.held() < this.max;
  }

  #take(kind: Kind): IntakePermit {
    this.#held[kind]++;
    return { kind };
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

const kindOf = (ctx: SlotReserveContext): Kind => (ctx.isSticky ? 'sticky' : 'normal');
