export interface AdaptiveRateOptions {
  /** An answer slower than this is a sign of trouble, like a 5xx or a timeout. */
  slowMs?: number;
  /** The share of the asked rate never drops below this. */
  minShare?: number;
  /** At most one cut per this long: failures of polls sent together are one signal, not many. */
  cutGapMs?: number;
  /** After this long without trouble the share grows by `growth`, back up to the whole asked rate. */
  growEveryMs?: number;
  growth?: number;
}

/**
 * The share of its asked rate a poller should use, adapted to the server: halved when answers show trouble
 * (5xx, 429, timeouts, slow answers), grown back slowly while they do not. A busy Temporal gets less to do
 * instead of more retries.
 */
export class AdaptiveRate {
  readonly #o: Required<AdaptiveRateOptions>;
  #share = 1;
  #lastCut = -Infinity;
  #calmSince: number;
  #cuts = 0;

  constructor(now: number, options: AdaptiveRateOptions = {}) {
    this.#o = {
      slowMs: 2_000,
      minShare: 1 / 32,
      cutGapMs: 2_000,
      growEveryMs: 5_000,
      growth: 1.25,
      ...options,
    };
    this.#calmSince = now;
  }

  /** One answer: `failed` for a 5xx, 429 or network error/timeout; its latency decides "slow". */
  onAnswer(failed: boolean, latencyMs: number, now: number): void {
    if (!failed && latencyMs <= this.#o.slowMs) return;
    this.#grow(now);
    this.#calmSince = now;
    if (now - this.#lastCut < this.#o.cutGapMs) return;
    this.#share = Math.max(this.#o.minShare, this.#share / 2);
    this.#lastCut = now;
    this.#cuts++;
  }

  /** The share of the asked rate to use now (0 < share <= 1). */
  share(now: number): number {
    this.#grow(now);
    return this.#share;
  }

  /** Times the rate was halved. */
  get cuts(): number {
    return this.#cuts;
  }

  #grow(now: number): void {
    const { growEveryMs, growth } = this.#o;
    while (this.#share < 1 && now - this.#calmSince >= growEveryMs) {
      this.#share = Math.min(1, this.#share * growth);
      this.#calmSince += growEveryMs;
    }
  }
}
