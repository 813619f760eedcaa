import type { SweepResult } from './completion-types';
import { ListingSweep, type ListedFinal, type ListingSweepOptions } from './listing-sweep';

/** Failed sweeps in a row after which per-ID polls go back to their full rate. */
const SWEEP_FAILURES_FALLBACK = 3;
/** A failed sweep waits twice as long as the one before, up to this. */
const SWEEP_BACKOFF_MAX_MS = 60_000;
/** Every this long a sweep reads every page, not only the newest ones: a safety net for the overlap. */
const FULL_SWEEP_EVERY_MS = 30_000;

/**
 * When the listing sweeps run and how they went: every interval, backing off after failures, never again
 * once the target turned out to have no listing; a full sweep every FULL_SWEEP_EVERY_MS.
 */
export class SweepSchedule {
  readonly #listing: ListingSweep;
  #intervalMs: number;
  #lastSweepAt = -Infinity;
  #lastFullSweepAt = -Infinity;
  #sweeps = 0;
  #failedSweeps = 0;
  /** Failed sweeps in a row. */
  #failures = 0;
  #problem: string | null = null;
  #unsupported: string | null = null;

  constructor(listing: ListingSweepOptions, intervalMs: number) {
    this.#listing = new ListingSweep(listing);
    this.#intervalMs = intervalMs;
  }

  /** Time between sweeps; 0 stops them. */
  setInterval(ms: number): void {
    this.#intervalMs = ms;
  }

  /** The listing sweep works (or has not been tried yet): per-ID polls are only the backstop. */
  get working(): boolean {
    return this.#intervalMs > 0 && this.#unsupported === null && this.#failures < SWEEP_FAILURES_FALLBACK;
  }

  /** How long until the next sweep is due (`pending`: transactions not finished yet). */
  wait(now: number, pending: number): number {
    if (this.#intervalMs <= 0 || this.#unsupported !== null || pending === 0) return 100;
    const interval = Math.min(SWEEP_BACKOFF_MAX_MS, this.#intervalMs * 2 ** this.#failures);
    return this.#lastSweepAt + interval - now;
  }

  /** One sweep: `settle` each listed final transaction while `goOn` says so. */
  async once(now: number, settle: (item: ListedFinal) => void, goOn: () => boolean): Promise<void> {
    this.#lastSweepAt = now;
    const full = now - this.#lastFullSweepAt >= FULL_SWEEP_EVERY_MS;
    this.#sweeps++;
    const outcome = await this.#listing.sweep(settle, full, goOn);
    if (outcome.kind === 'done') {
      this.#failures = 0;
      this.#problem = null;
      if (full) this.#lastFullSweepAt = now;
    } else if (outcome.kind === 'unsupported') {
      this.#unsupported = outcome.reason;
    } else {
      this.#failedSweeps++;
      this.#failures++;
      this.#problem = outcome.reason;
    }
  }

  result(): SweepResult {
    const listing: SweepResult['listing'] =
      this.#unsupported !== null
        ? 'unsupported'
        : this.#failures >= SWEEP_FAILURES_FALLBACK
          ? 'failing'
          : this.#sweeps > 0
            ? 'used'
            : 'off';
    return {
      listing,
      detail: this.#unsupported ?? this.#problem,
      sweeps: this.#sweeps,
      pages: this.#listing.pages,
      listed: this.#listing.listed,
      failedSweeps: this.#failedSweeps,
      answers: this.#listing.answers(),
    };
  }
}
