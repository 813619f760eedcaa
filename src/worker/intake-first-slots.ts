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
 * Workflow-task slots that give way to intake. While the worker keeps up it holds up to `max`. While new workflows
 * arrive faster than it takes them (IntakeWatch says so, for at most 10 s) it takes no new workflow and finishes
 * the ones in flight on at most `duringIntake` slots. Acknowledgements and processing share one Temporal server;
 * a submission's client waits for its start, a started transaction does not (decision 0030).
 *
 * The SDK reserves a slot before each poll: sticky polls (a cached workflow's next task) and normal ones (new
 * workflows, and tasks of workflows not in the cache) are counted apart.
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
    if (duringIntake < 1 || duringIntake > max) throw new RangeError('duringIntake must be 1..max');
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
    if (this.held() >= this.max) return false;
    // The SDK gives a custom supplier 4 sticky pollers to each normal one, each holding a slot while it waits on
    // a quiet sticky queue; 2 are kept for normal polls, so that new workflows never wait behind them.
    if (!this.#intake) return kind === 'normal' || this.#held.sticky < Math.max(1, this.max - 2);
    // Finishing what is in flight frees the server soonest; a new workflow waits until intake is over.
    return kind === 'sticky' && this.#held.sticky < this.duringIntake;
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
