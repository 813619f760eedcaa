import { applyView, explainFailures, readTransaction } from './completion-read';
import { PollPacer } from './completion-pacer';
import { PollQueue } from './completion-queue';
import { CompletionTimes, completionResult } from './completion-result';
import { SweepSchedule } from './completion-sweeps';
import type { CompletionOptions, CompletionResult, Tracked } from './completion-types';
import { FINAL_STATUSES, type ListedFinal } from './listing-sweep';
import { realClock } from '../shared/schedule';

export type { CompletionOptions, CompletionResult, SweepResult } from './completion-types';

const TERMINAL = new Set<string>(FINAL_STATUSES);
/** Listed only if started after this long before the run (clock skew between the hosts). */
export const LIST_FROM_MARGIN_MS = 5 * 60_000;

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
  readonly #queue = new PollQueue();
  readonly #pacer: PollPacer;
  readonly #sweeps: SweepSchedule;
  readonly #times: CompletionTimes;
  #inFlight = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  #sweepLoop: Promise<void> | undefined;
  #pendingCount = 0;
  #polls = 0;
  #notFoundPolls = 0;
  readonly #pollAnswers = new Map<string, number>();

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
    const now = this.#opts.clock.now();
    this.#pacer = new PollPacer(options.rate, this.#opts.sweepPollRate, this.#opts.adaptive, now);
    const listing = {
      api: options.api,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
      from: listFrom ?? new Date(Date.now() - LIST_FROM_MARGIN_MS),
      ...(listPageSize === undefined ? {} : { pageSize: listPageSize }),
    };
    this.#sweeps = new SweepSchedule(listing, this.#opts.sweepIntervalMs);
    this.#times = new CompletionTimes(this.#opts.wallOf);
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
    this.#queue.push(t);
  }

  isTracked(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Per-ID polls per second when the listing does not help (capped at sweepPollRate while it does). */
  setRate(rate: number): void {
    this.#pacer.setRate(rate);
  }

  /** Time between listing sweeps; 0 stops them. */
  setSweepInterval(ms: number): void {
    this.#sweeps.setInterval(ms);
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
  async stop({ explainFailures: explain = true } = {}): Promise<void> {
    this.#running = false;
    await Promise.all([this.#loop, this.#sweepLoop]);
    // Let polls in flight finish so the figures do not change after result().
    while (this.#inFlight > 0) await this.#opts.clock.sleep(10);
    if (explain) await explainFailures(this.#byId.values(), this.#opts);
  }

  /** Starts each due poll when the queue, the concurrency and the pacer allow it. */
  async #run(): Promise<void> {
    const { clock, concurrency } = this.#opts;
    while (this.#running) {
      const now = clock.now();
      const next = this.#queue.head(now);
      if (next === undefined || this.#inFlight >= concurrency) {
        await clock.sleep(20);
        continue;
      }
      if (next.t.nextAt > now) {
        // New transactions may be due earlier than the head: look again soon.
        await clock.sleep(Math.min(next.t.nextAt - now, 50));
        continue;
      }
      const wait = this.#pacer.take(now, this.#pacer.rate(now, this.#sweeps.working, next.lookup));
      if (wait !== 0) {
        await clock.sleep(wait);
        continue;
      }
      this.#queue.pop(next.lookup);
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
    const { key, view } = await readTransaction(this.#opts, t.id, this.#opts.timeoutMs);
    this.#pollAnswers.set(key, (this.#pollAnswers.get(key) ?? 0) + 1);
    const now = clock.now();
    this.#pacer.onAnswer(key, now - sentAt, now, this.#sweeps.working);
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
      applyView(t, view.status, view);
      if (TERMINAL.has(view.status)) {
        this.#times.record(t, view, now);
        t.settledBy = 'poll';
        this.#finish(t, false);
        return;
      }
    }
    const interval = Math.min(this.#opts.maxIntervalMs, this.#opts.firstDelayMs * 1.5 ** t.polls);
    t.nextAt = now + interval;
    this.#queue.push(t);
  }

  async #sweepEvery(): Promise<void> {
    const clock = this.#opts.clock;
    while (this.#running) {
      const wait = this.#sweeps.wait(clock.now(), this.#pendingCount);
      if (wait > 0) {
        await clock.sleep(Math.min(wait, 100));
        continue;
      }
      await this.#sweeps.once(
        clock.now(),
        (item) => this.#settleListed(item),
        () => this.#running && this.#pendingCount > 0,
      );
    }
  }

  /** A listed final transaction: settles it when this run tracks it and it is not settled yet. */
  #settleListed(item: ListedFinal): void {
    const t = this.#byId.get(item.id);
    if (t === undefined || t.terminal) return; // another run's, not answered yet, or already settled
    t.known = true;
    t.status = item.status;
    this.#times.record(t, item, this.#opts.clock.now());
    t.settledBy = 'sweep';
    this.#finish(t, false);
  }

  #finish(t: Tracked, absent: boolean): void {
    t.terminal = true;
    t.absent = absent;
    this.#pendingCount--;
  }

  /** Final status per transaction ID ("absent" for unacknowledged ones the API does not know). */
  statuses(): Map<string, string> {
    const out = new Map<string, string>();
    for (const t of this.#byId.values()) out.set(t.id, t.absent ? 'absent' : (t.status ?? 'unseen'));
    return out;
  }

  /** End-to-end times in ms (planned send to completedAt), for the distribution chart. */
  endToEndValues(): readonly number[] {
    return this.#times.endToEnd;
  }

  /** When each finished transaction finished (the API's completedAt), as clock times. */
  finishTimes(): readonly number[] {
    return this.#times.finishedAt;
  }

  result(): CompletionResult {
    return completionResult([...this.#byId.values()], this.#times, {
      polls: this.#polls,
      pollAnswers: this.#pollAnswers,
      notFoundPolls: this.#notFoundPolls,
      sweep: this.#sweeps.result(),
      adaptivePolling: this.#pacer.adaptation(),
    });
  }
}
