import { AdaptiveRate, type AdaptiveRateOptions } from './adaptive-rate';

/**
 * The pace of per-ID polls: the asked rate, capped while the listing sweep works, times the adaptive share,
 * spent from a token bucket (a burst of a tenth of a second at most).
 */
export class PollPacer {
  #rate: number;
  readonly #sweepPollRate: number;
  #tokens = 1;
  #refilledAt: number;
  readonly #adaptive: AdaptiveRate | null;
  #lowestRate: number | null = null;

  constructor(rate: number, sweepPollRate: number, adaptive: AdaptiveRateOptions | false, now: number) {
    this.#rate = rate;
    this.#sweepPollRate = sweepPollRate;
    this.#refilledAt = now;
    this.#adaptive = adaptive === false ? null : new AdaptiveRate(now, adaptive);
  }

  setRate(rate: number): void {
    this.#rate = rate;
  }

  /**
   * Per-ID polls per second now. Lookups of unacknowledged submissions keep the full rate even while the
   * listing works (`sweeping`): the listing can never settle one that was not started (only its 404 can),
   * and each costs the server a describe and no query.
   */
  rate(now: number, sweeping: boolean, lookup = false): number {
    const capped = sweeping && !lookup;
    const asked = capped ? Math.min(this.#rate, this.#sweepPollRate) : this.#rate;
    return asked * (this.#adaptive?.share(now) ?? 1);
  }

  /** Refills the bucket at `rate` and takes a token: 0 when it got one, else how long to wait (ms, > 0). */
  take(now: number, rate: number): number {
    this.#tokens = Math.min(Math.max(1, rate / 10), this.#tokens + ((now - this.#refilledAt) * rate) / 1000);
    this.#refilledAt = now;
    // At most 100 ms: the rate may change meanwhile (drain, a sweep failing, adaptation).
    if (this.#tokens < 1) return Math.min(100, ((1 - this.#tokens) * 1000) / rate);
    this.#tokens -= 1;
    return 0;
  }

  /** One poll's answer: 5xx, 429 and network errors (timeouts included) are trouble; so is a slow answer. */
  onAnswer(key: string, latencyMs: number, now: number, sweeping: boolean): void {
    const adaptive = this.#adaptive;
    if (adaptive === null) return;
    const cuts = adaptive.cuts;
    adaptive.onAnswer(/^5\d\d$|^429$|^network:/.test(key), latencyMs, now);
    if (adaptive.cuts > cuts) {
      const rate = this.rate(now, sweeping);
      this.#lowestRate = Math.min(this.#lowestRate ?? rate, rate);
    }
  }

  /** Times the rate was halved, and the lowest rate (polls/s) it went down to. */
  adaptation(): { cuts: number; lowestRate: number | null } {
    return {
      cuts: this.#adaptive?.cuts ?? 0,
      lowestRate: this.#lowestRate === null ? null : Math.round(this.#lowestRate * 100) / 100,
    };
  }
}
