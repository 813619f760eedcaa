import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import { summarizeValues, type LatencySummary } from './metrics';
import { MinHeap } from './min-heap';
import { realClock, type Clock } from './schedule';
import { answerKey, errorCode } from './submitter';

/** One transaction followed until it is completed or failed. */
interface Tracked {
  id: string;
  /** Clock time its first submission was planned. */
  plannedAt: number;
  /** The API answered 2xx to one of its submissions; if not, a 404 means it was never started. */
  acknowledged: boolean;
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
  /** Polls per second (a token bucket; changeable with setRate). */
  rate: number;
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
  /** Still pending or processing (or never seen) when the deadline passed. */
  notTerminal: number;
  notTerminalIds: string[];
  failedTransactions: { id: string; lastError: string | null }[];
  /** Last status seen of the ones not terminal: pending, processing, unseen. */
  notTerminalStatuses: Record<string, number>;
  outcomes: Record<string, number>;
  /** How many downstream calls (checks and posts, retries included) the transactions took. */
  attempts: Record<string, number>;
  /** From the planned send (client clock) to the API's completedAt (server clock): needs clocks in sync. */
  endToEndMs: LatencySummary;
  /** From the API's submittedAt to its completedAt: server clock only. */
  processingMs: LatencySummary;
  /** From the planned send until a poll saw it finished: client clock only, late by up to a poll interval. */
  observedMs: LatencySummary;
  polls: number;
  pollAnswers: Record<string, number>;
  /** 404s for acknowledged transactions: should be 0. */
  notFoundPolls: number;
}

const TERMINAL = new Set(['completed', 'failed']);
const LIST_LIMIT = 100;

/**
 * Polls GET /api/transactions/:id for each tracked transaction until it is completed or failed, at a bounded
 * rate (a token bucket) and with growing intervals, so polling stays a small share of the load. The times
 * reported do not depend on the poll rate: they come from the API's submittedAt/completedAt.
 */
export class CompletionTracker {
  readonly #opts: Required<Omit<CompletionOptions, 'wallOf'>> & Pick<CompletionOptions, 'wallOf'>;
  readonly #byId = new Map<string, Tracked>();
  readonly #queue = new MinHeap<Tracked>((t) => t.nextAt);
  #rate: number;
  #tokens = 1;
  #refilledAt: number;
  #inFlight = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  #pendingCount = 0;
  readonly #endToEnd: number[] = [];
  readonly #processing: number[] = [];
  readonly #observed: number[] = [];
  /** completedAt of each finished transaction, on the clock. */
  readonly #finishedAt: number[] = [];
  #polls = 0;
  #notFoundPolls = 0;
  readonly #pollAnswers = new Map<string, number>();

  constructor(options: CompletionOptions) {
    this.#opts = {
      concurrency: 16,
      firstDelayMs: 500,
      maxIntervalMs: 5_000,
      clock: realClock,
      ...options,
    };
    this.#rate = options.rate;
    this.#refilledAt = this.#opts.clock.now();
  }

  /** Follows `id` from now on (again: only upgrades an unacknowledged one to acknowledged). */
  track(id: string, plannedAt: number, acknowledged: boolean): void {
    const known = this.#byId.get(id);
    if (known !== undefined) {
      if (acknowledged) known.acknowledged = true;
      return;
    }
    const t: Tracked = {
      id,
      plannedAt,
      acknowledged,
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

  setRate(rate: number): void {
    this.#rate = rate;
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
  }

  /** Resolves when nothing is pending, at `deadline` (clock time), or when `signal` aborts. */
  async waitAll(deadline: number, signal?: AbortSignal): Promise<void> {
    const clock = this.#opts.clock;
    while (this.#pendingCount > 0 && clock.now() < deadline && signal?.aborted !== true) {
      await clock.sleep(Math.min(100, Math.max(1, deadline - clock.now())));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    // Let polls in flight finish so the figures do not change after result().
    while (this.#inFlight > 0) await this.#opts.clock.sleep(10);
  }

  async #run(): Promise<void> {
    const { clock, concurrency } = this.#opts;
    while (this.#running) {
      const head = this.#queue.peek();
      const now = clock.now();
      if (head === undefined || this.#inFlight >= concurrency) {
        await clock.sleep(20);
        continue;
      }
      if (head.nextAt > now) {
        // New transactions may be due earlier than the head: look again soon.
        await clock.sleep(Math.min(head.nextAt - now, 50));
        continue;
      }
      this.#tokens = Math.min(
        Math.max(1, this.#rate / 10),
        this.#tokens + ((now - this.#refilledAt) * this.#rate) / 1000,
      );
      this.#refilledAt = now;
      if (this.#tokens < 1) {
        await clock.sleep(((1 - this.#tokens) * 1000) / this.#rate);
        continue;
      }
      this.#tokens -= 1;
      this.#queue.pop();
      this.#inFlight++;
      void this.#poll(head).finally(() => {
        this.#inFlight--;
      });
    }
  }

  async #poll(t: Tracked): Promise<void> {
    const { api, dispatcher, timeoutMs, clock } = this.#opts;
    this.#polls++;
    t.polls++;
    let key: string;
    let view: TransactionView | undefined;
    try {
      const res = await request(`${api}/api/transactions/${encodeURIComponent(t.id)}`, {
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      key = String(res.statusCode);
      if (res.statusCode === 200) view = (await res.body.json()) as TransactionView;
      else await res.body.dump();
    } catch (err) {
      key = answerKey({ status: null, error: errorCode(err) });
    }
    this.#pollAnswers.set(key, (this.#pollAnswers.get(key) ?? 0) + 1);
    const now = clock.now();
    if (key === '404') {
      if (!t.acknowledged) {
        // Every submission failed and the API does not know it: it was never started.
        this.#finish(t, true);
        return;
      }
      t.notFound++;
      this.#notFoundPolls++;
    }
    if (view !== undefined && typeof view.status === 'string') {
      t.status = view.status;
      if (typeof view.attempts === 'number') t.attempts = view.attempts;
      if (typeof view.outcome === 'string' || view.outcome === null) t.outcome = view.outcome;
      if (typeof view.lastError === 'string' || view.lastError === null) t.lastError = view.lastError;
      if (TERMINAL.has(view.status)) {
        this.#recordTimes(t, view, now);
        this.#finish(t, false);
        return;
      }
    }
    const interval = Math.min(this.#opts.maxIntervalMs, this.#opts.firstDelayMs * 1.5 ** t.polls);
    t.nextAt = now + interval;
    this.#queue.push(t);
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
    return {
      tracked: tracked.length,
      acknowledged: count((t) => t.acknowledged),
      foundUnacknowledged: count((t) => !t.acknowledged),
      absentUnacknowledged: all.length - tracked.length,
      completed: count((t) => t.terminal && t.status === 'completed'),
      failed: failed.length,
      notTerminal: notTerminal.length,
      notTerminalIds: notTerminal.slice(0, LIST_LIMIT).map((t) => t.id),
      failedTransactions: failed
        .slice(0, LIST_LIMIT)
        .map((t) => ({ id: t.id, lastError: t.lastError ?? null })),
      notTerminalStatuses: tally(notTerminal.map((t) => t.status ?? 'unseen')),
      outcomes: tally(tracked.map((t) => (t.terminal ? (t.outcome ?? undefined) : undefined))),
      attempts: tally(
        tracked.map((t) => (t.attempts !== undefined && t.terminal ? String(t.attempts) : undefined)),
      ),
      endToEndMs: summarizeValues(this.#endToEnd),
      processingMs: summarizeValues(this.#processing),
      observedMs: summarizeValues(this.#observed),
      polls: this.#polls,
      pollAnswers: Object.fromEntries(this.#pollAnswers),
      notFoundPolls: this.#notFoundPolls,
    };
  }
}
