import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import { AdaptiveRate, type AdaptiveRateOptions } from './adaptive-rate';
import { FINAL_STATUSES, ListingSweep, type ListedFinal } from './listing-sweep';
import { summarizeValues, type LatencySummary } from './metrics';
import { MinHeap } from './min-heap';
import { realClock, type Clock } from './schedule';
import { answerKey, errorCode } from './submitter';

/** One transaction followed until it is completed, failed or cancelled. */
interface Tracked {
  id: string;
  /** Clock time its first submission was planned. */
  plannedAt: number;
  /** The API answered 2xx to one of its submissions; if not, a 404 means it was never started. */
  acknowledged: boolean;
  /** Acknowledged, or the API showed it (a GET answered 200, or it was listed): no lookup needed. */
  known: boolean;
  nextAt: number;
  polls: number;
  status: string | null;
  terminal: boolean;
  /** Only for unacknowledged ones: the API does not know it. */
  absent: boolean;
  notFound: number;
  attempts?: number;
  outcome?: string | null;
  lastError?: string | null;
  /** How its final status was learnt. */
  settledBy?: 'poll' | 'sweep';
}

interface TransactionView {
  status?: unknown;
  attempts?: unknown;
  outcome?: unknown;
  lastError?: unknown;
  submittedAt?: unknown;
  completedAt?: unknown;
}

export interface CompletionOptions {
  api: string;
  dispatcher: Dispatcher;
  /** Per-ID polls per second when they are the only way to learn a status (a token bucket; see setRate). */
  rate: number;
  /**
   * A listing sweep (GET /api/transactions by final status) every this many ms; 0: none, per-ID polls only
   * (changeable with setSweepInterval).
   */
  sweepIntervalMs?: number;
  /** Per-ID polls per second at most while the listing sweep works: lookups, detail, stragglers. */
  sweepPollRate?: number;
  /** The listing's `from`: transactions started before it are not listed (default: 5 minutes ago). */
  listFrom?: Date;
  /** Items per page of the listing (1000; smaller in tests). */
  listPageSize?: number;
  /** Halve the per-ID poll rate when polls fail or are slow, grow it back slowly; false: a fixed rate. */
  adaptive?: AdaptiveRateOptions | false;
  timeoutMs: number;
  /** Polls in flight at most. */
  concurrency?: number;
  /** First poll this long after the planned send; then 1.5x longer each time, up to maxIntervalMs. */
  firstDelayMs?: number;
  maxIntervalMs?: number;
  clock?: Clock;
  /** Wall-clock ms (epoch) of a clock time: to compare with the API's submittedAt/completedAt. */
  wallOf?: (clockMs: number) => number;
}

/** How the listing sweep went. */
export interface SweepResult {
  /**
   * used: sweeps ran and the listing answered; off: no sweeps asked; unsupported: the target has no
   * listing (404/405/501), so per-ID polls only; failing: its last three or more sweeps failed (per-ID
   * polls took over).
   */
  listing: 'used' | 'off' | 'unsupported' | 'failing';
  /** Why unsupported, or what went wrong with the last sweep (null: it worked). */
  detail: string | null;
  sweeps: number;
  /** Pages read, and the items on them (of any run; only this run's tracked ones are settled). */
  pages: number;
  listed: number;
  failedSweeps: number;
  answers: Record<string, number>;
}

export interface CompletionResult {
  /** Transactions followed: every acknowledged one, and unacknowledged ones the API turned out to know. */
  tracked: number;
  acknowledged: number;
  /** Submissions all failed (timeout, 5xx...), yet the API had started the transaction. */
  foundUnacknowledged: number;
  /** Submissions all failed and the API does not know the ID: nothing was started (not tracked). */
  absentUnacknowledged: number;
  completed: number;
  failed: number;
  /** Stopped before anything was posted (nobody cancels in a load test: counted as a failure). */
  cancelled: number;
  /** How the final statuses were learnt: from the listing sweep, or from a transaction's own GET. */
  settledBy: { sweep: number; poll: number };
  /** Still pending or processing (or never seen) when the deadline passed. */
  notTerminal: number;
  notTerminalIds: string[];
  failedTransactions: { id: string; lastError: string | null }[];
  /** Last status seen of the ones not terminal: pending, processing, unseen. */
  notTerminalStatuses: Record<string, number>;
  /** Of the transactions settled by a poll only: the listing does not carry outcome and attempts. */
  outcomes: Record<string, number>;
  /** How many downstream calls (checks and posts, retries included) the polled transactions took. */
  attempts: Record<string, number>;
  /** From the planned send (client clock) to the API's completedAt (server clock): needs clocks in sync. */
  endToEndMs: LatencySummary;
  /** From the API's submittedAt to its completedAt: server clock only. */
  processingMs: LatencySummary;
  /** From the planned send until a poll or sweep saw it finished: client clock only, late by up to an interval. */
  observedMs: LatencySummary;
  polls: number;
  pollAnswers: Record<string, number>;
  /** 404s for acknowledged transactions: should be 0. */
  notFoundPolls: number;
  sweep: SweepResult;
  /** Per-ID poll rate adaptation: times it was halved, and the lowest rate (polls/s) it went down to. */
  adaptivePolling: { cuts: number; lowestRate: number | null };
}

const TERMINAL = new Set<string>(FINAL_STATUSES);
const LIST_LIMIT = 100;
const EXPLAIN_BUDGET_MS = 10_000;
const EXPLAIN_READERS = 4;
/** Listed only if started after this long before the run (clock skew between the hosts). */
export const LIST_FROM_MARGIN_MS = 5 * 60_000;
/** Failed sweeps in a row after which per-ID polls go back to their full rate. */
const SWEEP_FAILURES_FALLBACK = 3;
/** A failed sweep waits twice as long as the one before, up to this. */
const SWEEP_BACKOFF_MAX_MS = 60_000;
/** Every this long a sweep reads every page, not only the newest ones: a safety net for the overlap. */
const FULL_SWEEP_EVERY_MS = 30_000;

/**
 * Follows each tracked transaction until it is completed, failed or cancelled. A periodic listing sweep
 * learns final statuses in bulk (GET /api/transactions: one visibility query per page of up to 1000);
 * per-ID polls of GET /api/transactions/:id, at a bounded and adaptive rate (a token bucket) and with
 * growing intervals, look up unacknowledged submissions (only a 404 proves nothing was started), give
 * attempts and outcome, catch what the listing has not shown yet, and do everything when the target has
 * no listing. The times reported do not depend on either rate: they come from the API's
 * submittedAt/completedAt.
 */
export class CompletionTracker {
  readonly #opts: Required<Omit<CompletionOptions, 'wallOf' | 'listFrom' | 'listPageSize'>> &
    Pick<CompletionOptions, 'wallOf'>;
  readonly #byId = new Map<string, Tracked>();
  /** Unacknowledged submissions not looked up yet: polled before the others. */
  readonly #lookups = new MinHeap<Tracked>((t) => t.nextAt);
  readonly #queue = new MinHeap<Tracked>((t) => t.nextAt);
  #rate: number;
  #tokens = 1;
  #refilledAt: number;
  #inFlight = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  #sweepLoop: Promise<void> | undefined;
  #pendingCount = 0;
  readonly #endToEnd: number[] = [];
  readonly #processing: number[] = [];
  readonly #observed: number[] = [];
  /** completedAt of each finished transaction, on the clock. */
  readonly #finishedAt: number[] = [];
  #polls = 0;
  #notFoundPolls = 0;
  readonly #pollAnswers = new Map<string, number>();
  readonly #adaptive: AdaptiveRate | null;
  #lowestRate: number | null = null;
  readonly #listing: ListingSweep;
  #sweepIntervalMs: number;
  #lastSweepAt = -Infinity;
  #lastFullSweepAt = -Infinity;
  #sweeps = 0;
  #failedSweeps = 0;
  /** Failed sweeps in a row. */
  #sweepFailures = 0;
  #sweepProblem: string | null = null;
  #unsupported: string | null = null;

  constructor(options: CompletionOptions) {
    const { listFrom, listPageSize, ...rest } = options;
    this.#opts = {
      concurrency: 16,
      firstDelayMs: 500,
      maxIntervalMs: 5_000,
      clock: realClock,
      sweepIntervalMs: 0,
      sweepPollRate: options.rate,
      adaptive: {},
      ...rest,
    };
    this.#rate = options.rate;
    this.#sweepIntervalMs = this.#opts.sweepIntervalMs;
    const now = this.#opts.clock.now();
    this.#refilledAt = now;
    this.#adaptive = this.#opts.adaptive === false ? null : new AdaptiveRate(now, this.#opts.adaptive);
    this.#listing = new ListingSweep({
      api: options.api,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
      from: listFrom ?? new Date(Date.now() - LIST_FROM_MARGIN_MS),
      ...(listPageSize === undefined ? {} : { pageSize: listPageSize }),
    });
  }

  /** Follows `id` from now on (again: only upgrades an unacknowledged one to acknowledged). */
  track(id: string, plannedAt: number, acknowledged: boolean): void {
    const known = this.#byId.get(id);
    if (known !== undefined) {
      if (acknowledged) known.acknowledged = known.known = true;
      return;
    }
    const t: Tracked = {
      id,
      plannedAt,
      acknowledged,
      known: acknowledged,
      nextAt: Math.max(plannedAt + this.#opts.firstDelayMs, this.#opts.clock.now()),
      polls: 0,
      status: null,
      terminal: false,
      absent: false,
      notFound: 0,
    };
    this.#byId.set(id, t);
    this.#pendingCount++;
    (acknowledged ? this.#queue : this.#lookups).push(t);
  }

  isTracked(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Per-ID polls per second when the listing does not help (capped at sweepPollRate while it does). */
  setRate(rate: number): void {
    this.#rate = rate;
  }

  /** Time between listing sweeps; 0 stops them. */
  setSweepInterval(ms: number): void {
    this.#sweepIntervalMs = ms;
  }

  /** Transactions not finished yet. */
  get pending(): number {
    return this.#pendingCount;
  }

  get completedOrFailed(): number {
    let n = 0;
    for (const t of this.#byId.values()) if (t.terminal && !t.absent) n++;
    return n;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
    this.#sweepLoop = this.#sweepEvery();
  }

  /** Resolves when nothing is pending, at `deadline` (clock time), or when `signal` aborts. */
  async waitAll(deadline: number, signal?: AbortSignal): Promise<void> {
    const clock = this.#opts.clock;
    while (this.#pendingCount > 0 && clock.now() < deadline && signal?.aborted !== true) {
      await clock.sleep(Math.min(100, Math.max(1, deadline - clock.now())));
    }
  }

  /**
   * Stops following. `explainFailures` (unless the run was aborted): read the reported failures a sweep
   * settled one by one, for the lastError the listing does not carry.
   */
  async stop({ explainFailures = true } = {}): Promise<void> {
    this.#running = false;
    await Promise.all([this.#loop, this.#sweepLoop]);
    // Let polls in flight finish so the figures do not change after result().
    while (this.#inFlight > 0) await this.#opts.clock.sleep(10);
    if (explainFailures) await this.#explainFailures();
  }

  /** A few reads at a time, within EXPLAIN_BUDGET_MS in all: a hung API must not hold up the report. */
  async #explainFailures(): Promise<void> {
    const { clock, timeoutMs } = this.#opts;
    const until = clock.now() + EXPLAIN_BUDGET_MS;
    const unexplained = [...this.#byId.values()]
      .filter((t) => !t.absent && t.terminal && t.status === 'failed')
      .slice(0, LIST_LIMIT)
      .filter((t) => t.settledBy === 'sweep');
    const reader = async () => {
      for (let t = unexplained.shift(); t !== undefined; t = unexplained.shift()) {
        const left = until - clock.now();
        if (left <= 0) return;
        const { view } = await this.#read(t.id, Math.min(timeoutMs, left));
        if (typeof view?.lastError === 'string') t.lastError = view.lastError;
      }
    };
    await Promise.all(Array.from({ length: EXPLAIN_READERS }, reader));
  }

  /** One transaction's GET: the answer's key (status code or network error) and its view when 200. */
  async #read(
    id: string,
    timeoutMs = this.#opts.timeoutMs,
  ): Promise<{ key: string; view?: TransactionView }> {
    const { api, dispatcher } = this.#opts;
    try {
      const res = await request(`${api}/api/transactions/${encodeURIComponent(id)}`, {
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const key = String(res.statusCode);
      if (res.statusCode === 200) return { key, view: (await res.body.json()) as TransactionView };
      await res.body.dump();
      return { key };
    } catch (err) {
      return { key: answerKey({ status: null, error: errorCode(err) }) };
    }
  }

  /** The listing sweep works (or has not been tried yet): per-ID polls are only the backstop. */
  get #sweeping(): boolean {
    return (
      this.#sweepIntervalMs > 0 && this.#unsupported === null && this.#sweepFailures < SWEEP_FAILURES_FALLBACK
    );
  }

  /**
   * Per-ID polls per second now. Lookups of unacknowledged submissions keep the full rate even while the
   * listing works: the listing can never settle one that was not started (only its 404 can), and each costs
   * the server a describe and no query.
   */
  #currentRate(now: number, lookup = false): number {
    const capped = this.#sweeping && !lookup;
    const asked = capped ? Math.min(this.#rate, this.#opts.sweepPollRate) : this.#rate;
    return asked * (this.#adaptive?.share(now) ?? 1);
  }

  /** The next one to poll: a due lookup first, else the earliest due; settled ones are dropped here. */
  #head(now: number): { t: Tracked; heap: MinHeap<Tracked> } | undefined {
    for (const heap of [this.#lookups, this.#queue]) {
      while (heap.peek()?.terminal === true) heap.pop();
    }
    const lookup = this.#lookups.peek();
    const other = this.#queue.peek();
    if (lookup !== undefined && (other === undefined || lookup.nextAt <= Math.max(now, other.nextAt))) {
      return { t: lookup, heap: this.#lookups };
    }
    return other === undefined ? undefined : { t: other, heap: this.#queue };
  }

  async #run(): Promise<void> {
    const { clock, concurrency } = this.#opts;
    while (this.#running) {
      const now = clock.now();
      const next = this.#head(now);
      if (next === undefined || this.#inFlight >= concurrency) {
        await clock.sleep(20);
        continue;
      }
      if (next.t.nextAt > now) {
        // New transactions may be due earlier than the head: look again soon.
        await clock.sleep(Math.min(next.t.nextAt - now, 50));
        continue;
      }
      const rate = this.#currentRate(now, next.heap === this.#lookups);
      this.#tokens = Math.min(
        Math.max(1, rate / 10),
        this.#tokens + ((now - this.#refilledAt) * rate) / 1000,
      );
      this.#refilledAt = now;
      if (this.#tokens < 1) {
        // At most 100 ms: the rate may change meanwhile (drain, a sweep failing, adaptation).
        await clock.sleep(Math.min(100, ((1 - this.#tokens) * 1000) / rate));
        continue;
      }
      this.#tokens -= 1;
      next.heap.pop();
      this.#inFlight++;
      void this.#poll(next.t).finally(() => {
        this.#inFlight--;
      });
    }
  }

  async #poll(t: Tracked): Promise<void> {
    const clock = this.#opts.clock;
    this.#polls++;
    t.polls++;
    const sentAt = clock.now();
    const { key, view } = await this.#read(t.id);
    this.#pollAnswers.set(key, (this.#pollAnswers.get(key) ?? 0) + 1);
    const now = clock.now();
    this.#adapt(key, now - sentAt, now);
    if (t.terminal) return; // a sweep settled it meanwhile
    if (key === '404') {
      if (!t.acknowledged && !t.known) {
        // Every submission failed and the API does not know it: it was never started.
        this.#finish(t, true);
        return;
      }
      t.notFound++;
      this.#notFoundPolls++;
    }
    if (view !== undefined && typeof view.status === 'string') {
      t.known = true;
      t.status = view.status;
      if (typeof view.attempts === 'number') t.attempts = view.attempts;
      if (typeof view.outcome === 'string' || view.outcome === null) t.outcome = view.outcome;
      if (typeof view.lastError === 'string' || view.lastError === null) t.lastError = view.lastError;
      if (TERMINAL.has(view.status)) {
        this.#recordTimes(t, view, now);
        t.settledBy = 'poll';
        this.#finish(t, false);
        return;
      }
    }
    const interval = Math.min(this.#opts.maxIntervalMs, this.#opts.firstDelayMs * 1.5 ** t.polls);
    t.nextAt = now + interval;
    (t.known ? this.#queue : this.#lookups).push(t);
  }

  /** 5xx, 429 and network errors (timeouts included) are trouble; so is a slow answer. */
  #adapt(key: string, latencyMs: number, now: number): void {
    const adaptive = this.#adaptive;
    if (adaptive === null) return;
    const cuts = adaptive.cuts;
    adaptive.onAnswer(/^5\d\d$|^429$|^network:/.test(key), latencyMs, now);
    if (adaptive.cuts > cuts) {
      const rate = this.#currentRate(now);
      this.#lowestRate = Math.min(this.#lowestRate ?? rate, rate);
    }
  }

  async #sweepEvery(): Promise<void> {
    const clock = this.#opts.clock;
    while (this.#running) {
      const wait = this.#sweepWait(clock.now());
      if (wait > 0) {
        await clock.sleep(Math.min(wait, 100));
        continue;
      }
      await this.#sweepOnce();
    }
  }

  /** How long until the next sweep is due. */
  #sweepWait(now: number): number {
    if (this.#sweepIntervalMs <= 0 || this.#unsupported !== null || this.#pendingCount === 0) return 100;
    const interval = Math.min(SWEEP_BACKOFF_MAX_MS, this.#sweepIntervalMs * 2 ** this.#sweepFailures);
    return this.#lastSweepAt + interval - now;
  }

  async #sweepOnce(): Promise<void> {
    const now = this.#opts.clock.now();
    this.#lastSweepAt = now;
    const full = now - this.#lastFullSweepAt >= FULL_SWEEP_EVERY_MS;
    this.#sweeps++;
    const outcome = await this.#listing.sweep(
      (item) => this.#settleListed(item),
      full,
      () => this.#running && this.#pendingCount > 0,
    );
    if (outcome.kind === 'done') {
      this.#sweepFailures = 0;
      this.#sweepProblem = null;
      if (full) this.#lastFullSweepAt = now;
    } else if (outcome.kind === 'unsupported') {
      this.#unsupported = outcome.reason;
    } else {
      this.#failedSweeps++;
      this.#sweepFailures++;
      this.#sweepProblem = outcome.reason;
    }
  }

  /** A listed final transaction: settles it when this run tracks it and it is not settled yet. */
  #settleListed(item: ListedFinal): void {
    const t = this.#byId.get(item.id);
    if (t === undefined || t.terminal) return; // another run's, not answered yet, or already settled
    t.known = true;
    t.status = item.status;
    this.#recordTimes(t, item, this.#opts.clock.now());
    t.settledBy = 'sweep';
    this.#finish(t, false);
  }

  #finish(t: Tracked, absent: boolean): void {
    t.terminal = true;
    t.absent = absent;
    this.#pendingCount--;
  }

  #recordTimes(t: Tracked, view: TransactionView, now: number): void {
    this.#observed.push(now - t.plannedAt);
    const submitted = typeof view.submittedAt === 'string' ? Date.parse(view.submittedAt) : NaN;
    const completed = typeof view.completedAt === 'string' ? Date.parse(view.completedAt) : NaN;
    if (Number.isFinite(completed)) {
      const wallOf = this.#opts.wallOf ?? ((ms: number) => performance.timeOrigin + ms);
      this.#endToEnd.push(Math.max(0, completed - wallOf(t.plannedAt)));
      // Only acknowledged ones: the timeline counts them from their acknowledgement to here.
      if (t.acknowledged) this.#finishedAt.push(completed - wallOf(0));
      if (Number.isFinite(submitted)) this.#processing.push(Math.max(0, completed - submitted));
    }
  }

  /** Final status per transaction ID ("absent" for unacknowledged ones the API does not know). */
  statuses(): Map<string, string> {
    const out = new Map<string, string>();
    for (const t of this.#byId.values()) out.set(t.id, t.absent ? 'absent' : (t.status ?? 'unseen'));
    return out;
  }

  /** End-to-end times in ms (planned send to completedAt), for the distribution chart. */
  endToEndValues(): readonly number[] {
    return this.#endToEnd;
  }

  /** When each finished transaction finished (the API's completedAt), as clock times. */
  finishTimes(): readonly number[] {
    return this.#finishedAt;
  }

  #sweepResult(): SweepResult {
    const listing: SweepResult['listing'] =
      this.#unsupported !== null
        ? 'unsupported'
        : this.#sweepFailures >= SWEEP_FAILURES_FALLBACK
          ? 'failing'
          : this.#sweeps > 0
            ? 'used'
            : 'off';
    return {
      listing,
      detail: this.#unsupported ?? this.#sweepProblem,
      sweeps: this.#sweeps,
      pages: this.#listing.pages,
      listed: this.#listing.listed,
      failedSweeps: this.#failedSweeps,
      answers: this.#listing.answers(),
    };
  }

  result(): CompletionResult {
    const all = [...this.#byId.values()];
    const tracked = all.filter((t) => !t.absent);
    const count = (pred: (t: Tracked) => boolean) => tracked.filter(pred).length;
    const tally = (values: (string | undefined)[]) => {
      const out: Record<string, number> = {};
      for (const v of values) if (v !== undefined) out[v] = (out[v] ?? 0) + 1;
      return out;
    };
    const notTerminal = tracked.filter((t) => !t.terminal);
    const failed = tracked.filter((t) => t.terminal && t.status === 'failed');
    // A sweep-settled one may have been polled while it ran: its attempts then are not its final ones.
    const polled = tracked.filter((t) => t.settledBy === 'poll');
    return {
      tracked: tracked.length,
      acknowledged: count((t) => t.acknowledged),
      foundUnacknowledged: count((t) => !t.acknowledged),
      absentUnacknowledged: all.length - tracked.length,
      completed: count((t) => t.terminal && t.status === 'completed'),
      failed: failed.length,
      cancelled: count((t) => t.terminal && t.status === 'cancelled'),
      settledBy: { sweep: count((t) => t.settledBy === 'sweep'), poll: polled.length },
      notTerminal: notTerminal.length,
      notTerminalIds: notTerminal.slice(0, LIST_LIMIT).map((t) => t.id),
      failedTransactions: failed
        .slice(0, LIST_LIMIT)
        .map((t) => ({ id: t.id, lastError: t.lastError ?? null })),
      notTerminalStatuses: tally(notTerminal.map((t) => t.status ?? 'unseen')),
      outcomes: tally(polled.map((t) => t.outcome ?? undefined)),
      attempts: tally(polled.map((t) => (t.attempts !== undefined ? String(t.attempts) : undefined))),
      endToEndMs: summarizeValues(this.#endToEnd),
      processingMs: summarizeValues(this.#processing),
      observedMs: summarizeValues(this.#observed),
      polls: this.#polls,
      pollAnswers: Object.fromEntries(this.#pollAnswers),
      notFoundPolls: this.#notFoundPolls,
      sweep: this.#sweepResult(),
      adaptivePolling: {
        cuts: this.#adaptive?.cuts ?? 0,
        lowestRate: this.#lowestRate === null ? null : Math.round(this.#lowestRate * 100) / 100,
      },
    };
  }
}
