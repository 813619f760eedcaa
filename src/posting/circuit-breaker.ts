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

/** The two kinds of call: a read (GET) and a write (POST). */
export type CallKind = 'find' | 'post';

/** Asks the downstream whether it works: true when it answered like a working service. */
export type Probe = () => Promise<boolean>;

export interface BreakerEvents {
  onChange?: (state: BreakerState, why: string) => void;
}

/**
 * One per worker process. Closed, it counts call outcomes over a sliding window; when the share of failures
 * reaches the ratio (with enough calls) it opens: activities stop calling the downstream (they fail fast, and
 * their workflows pause) and a timer probes it once per interval. A probe in flight is the half-open state: one
 * that fails leaves the breaker open; one that succeeds closes it with an empty window, unless POSTs were among
 * the failures that opened it. The probe is a GET, and a downstream can fail its writes while it answers reads:
 * then it stays half-open, reads go through, and one trial POST per probe interval decides (its success closes
 * the breaker, any failure opens it again), so an outage of writes costs a trickle of POSTs, not one per paused
 * transaction per probe.
 */
export class CircuitBreaker {
  private outcomes: { at: number; ok: boolean; post: boolean }[] = [];
  private current: BreakerState = 'closed';
  private nextProbeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastFailureSeen: { message: string; kind: string } | null = null;
  /** Whether failed POSTs were among the calls that opened it: then a good probe (a GET) is not enough. */
  private postsFailed = false;
  /** Half-open past a good probe: reads go through, and one trial POST per interval from `nextTrialAt`. */
  private trying = false;
  private nextTrialAt = 0;

  constructor(
    readonly options: BreakerOptions,
    private readonly probe: Probe,
    private readonly events: BreakerEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Whether an activity making `call`s may call the downstream now (half-open: a trial POST takes its slot). */
  allow(call: CallKind = 'find'): boolean {
    if (this.current === 'closed') return true;
    if (!this.trying) return false;
    if (call === 'find') return true;
    const now = this.now();
    if (now < this.nextTrialAt) return false;
    this.nextTrialAt = now + this.options.probeIntervalMs;
    return true;
  }

  /** Ms until the next probe, or the next trial POST (0 when closed). */
  retryAfterMs(): number {
    if (this.current === 'closed') return 0;
    return Math.max((this.trying ? this.nextTrialAt : this.nextProbeAt) - this.now(), 0);
  }

  /** The last failure recorded: what a paused transaction shows as its last error. */
  get lastFailure(): { message: string; kind: string } | null {
    return this.lastFailureSeen;
  }

  /**
   * One call's outcome. Closed, it joins the window; half-open past a good probe, a POST decides (a success closes
   * the breaker, a failure opens it again); open, it is old news (a straggler finishing after opening).
   */
  record(ok: boolean, failure?: { message: string; kind: string }, call: CallKind = 'find'): void {
    if (failure) this.lastFailureSeen = failure;
    if (this.trying) {
      // Only POSTs decide here: the probe has shown that reads work, and a read failing now and then would
      // otherwise reopen it more easily than the ratio would have opened it.
      if (call !== 'post') return;
      if (ok) this.closeAfter('a trial POST succeeded');
      else this.open('the trial POST failed');
      return;
    }
    if (this.current !== 'closed') return;
    const at = this.now();
    this.outcomes.push({ at, ok, post: call === 'post' });
    const since = at - this.options.windowMs;
    while (this.outcomes.length > 0 && (this.outcomes[0] as { at: number }).at < since) this.outcomes.shift();
    const failed = this.outcomes.filter((o) => !o.ok).length;
    const total = this.outcomes.length;
    if (total >= this.options.minCalls && failed / total >= this.options.failureRatio) {
      this.postsFailed = this.outcomes.some((o) => !o.ok && o.post);
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
    this.trying = false;
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
    if (ok && !this.postsFailed) {
      this.closeAfter('a probe succeeded');
      return;
    }
    if (ok) {
      this.trying = true;
      this.nextTrialAt = this.now();
      this.events.onChange?.('half_open', 'a probe (GET) succeeded: one trial POST per probe interval');
      return;
    }
    this.current = 'open';
    this.schedule();
  }

  private closeAfter(why: string): void {
    this.current = 'closed';
    this.trying = false;
    this.postsFailed = false;
    this.events.onChange?.('closed', why);
  }
}
