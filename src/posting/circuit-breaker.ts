/** Thresholds of the circuit breaker (BREAKER_* env vars, src/config/breaker.ts). */
export interface BreakerOptions {
  /** Share of failed calls in the window at or above which the breaker opens (0-1]. */
  failureRatio: number;
  /** The window of recent calls, in ms. */
  windowMs: number;
  /** Fewer calls than this in the window never open it (one failure out of one is not an outage). */
  minCalls: number;
  /** While open, one probe per this many ms. */
  probeIntervalMs: number;
  /** The longest a paused transaction waits between tries (told to the workflow). */
  maxPauseMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Asks the downstream whether it works: true when it answered like a working service. */
export type Probe = () => Promise<boolean>;

export interface BreakerEvents {
  onChange?: (state: BreakerState, why: string) => void;
}

/**
 * One per worker process. Closed, it counts call outcomes over a sliding window; when the share of failures
 * reaches the ratio (with enough calls) it opens: activities stop calling the downstream (they fail fast, and
 * their workflows pause) and a timer probes it once per interval. A probe in flight is the half-open state: a
 * probe that succeeds closes the breaker with an empty window, one that fails leaves it open.
 */
export class CircuitBreaker {
  private outcomes: { at: number; ok: boolean }[] = [];
  private current: BreakerState = 'closed';
  private nextProbeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastFailureSeen: { message: string; kind: string } | null = null;

  constructor(
    readonly options: BreakerOptions,
    private readonly probe: Probe,
    private readonly events: BreakerEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call may go to the downstream now. */
  allow(): boolean {
    return this.current === 'closed';
  }

  /** Ms until the next probe (0 when closed). */
  retryAfterMs(): number {
    return this.current === 'closed' ? 0 : Math.max(this.nextProbeAt - this.now(), 0);
  }

  /** The last failure recorded: what a paused transaction shows as its last error. */
  get lastFailure(): { message: string; kind: string } | null {
    return this.lastFailureSeen;
  }

  /** One call's outcome; only calls made while closed count (a straggler finishing after opening is old news). */
  record(ok: boolean, failure?: { message: string; kind: string }): void {
    if (failure) this.lastFailureSeen = failure;
    if (this.current !== 'closed') return;
    const at = this.now();
    this.outcomes.push({ at, ok });
    const since = at - this.options.windowMs;
    while (this.outcomes.length > 0 && (this.outcomes[0] as { at: number }).at < since) this.outcomes.shift();
    const failed = this.outcomes.filter((o) => !o.ok).length;
    const total = this.outcomes.length;
    if (total >= this.options.minCalls && failed / total >= this.options.failureRatio) {
      this.open(`${failed} of the last ${total} calls failed`);
    }
  }

  /** Stops the probe timer (the worker is stopping). */
  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private open(why: string): void {
    this.current = 'open';
    this.outcomes = [];
    this.events.onChange?.('open', why);
    this.schedule();
  }

  private schedule(): void {
    this.nextProbeAt = this.now() + this.options.probeIntervalMs;
    this.timer = setTimeout(() => void this.runProbe(), this.options.probeIntervalMs);
    // A worker stopping with the breaker open is not held up by the next probe.
    this.timer.unref();
  }

  private async runProbe(): Promise<void> {
    this.timer = undefined;
    this.current = 'half_open';
    const ok = await this.probe().catch(() => false);
    if (this.stopped) return;
    if (ok) {
      this.current = 'closed';
      this.events.onChange?.('closed', 'a probe succeeded');
      return;
    }
    this.current = 'open';
    this.schedule();
  }
}
