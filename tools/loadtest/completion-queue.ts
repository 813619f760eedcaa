import type { Tracked } from './completion-types';
import { MinHeap } from './min-heap';

/**
 * Transactions waiting for their next per-ID poll, by due time, in two heaps: lookups (unacknowledged
 * submissions the API has not shown yet) are polled before the others.
 */
export class PollQueue {
  readonly #lookups = new MinHeap<Tracked>((t) => t.nextAt);
  readonly #queue = new MinHeap<Tracked>((t) => t.nextAt);

  /** Queues `t` for a poll at t.nextAt: as a lookup until the API has shown it (or acknowledged it). */
  push(t: Tracked): void {
    (t.known ? this.#queue : this.#lookups).push(t);
  }

  /** The next one to poll: a due lookup first, else the earliest due; settled ones are dropped here. */
  head(now: number): { t: Tracked; lookup: boolean } | undefined {
    for (const heap of [this.#lookups, this.#queue]) {
      while (heap.peek()?.terminal === true) heap.pop();
    }
    const lookup = this.#lookups.peek();
    const other = this.#queue.peek();
    if (lookup !== undefined && (other === undefined || lookup.nextAt <= Math.max(now, other.nextAt))) {
      return { t: lookup, lookup: true };
    }
    return other === undefined ? undefined : { t: other, lookup: false };
  }

  /** Takes out the head that head() gave (`lookup` as it said). */
  pop(lookup: boolean): void {
    (lookup ? this.#lookups : this.#queue).pop();
  }
}
