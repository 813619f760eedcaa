import { performance } from 'node:perf_hooks';
import { LIST_LIMIT, type TransactionView } from './completion-read';
import type { CompletionResult, SweepResult, Tracked } from './completion-types';
import { summarizeValues } from './metrics';

/** The times of finished transactions: from the client's clock, the API's, or both. */
export class CompletionTimes {
  readonly endToEnd: number[] = [];
  readonly processing: number[] = [];
  readonly observed: number[] = [];
  /** completedAt of each finished transaction, on the clock. */
  readonly finishedAt: number[] = [];
  readonly #wallOf: (clockMs: number) => number;

  /** `wallOf`: wall-clock ms (epoch) of a clock time, to compare with the API's submittedAt/completedAt. */
  constructor(wallOf?: (clockMs: number) => number) {
    this.#wallOf = wallOf ?? ((ms: number) => performance.timeOrigin + ms);
  }

  /** `t` was seen finished at `now` (clock time), with the API's times in `view`. */
  record(t: Tracked, view: TransactionView, now: number): void {
    this.observed.push(now - t.plannedAt);
    const submitted = typeof view.submittedAt === 'string' ? Date.parse(view.submittedAt) : NaN;
    const completed = typeof view.completedAt === 'string' ? Date.parse(view.completedAt) : NaN;
    if (Number.isFinite(completed)) {
      this.endToEnd.push(Math.max(0, completed - this.#wallOf(t.plannedAt)));
      // Only acknowledged ones: the timeline counts them from their acknowledgement to here.
      if (t.acknowledged) this.finishedAt.push(completed - this.#wallOf(0));
      if (Number.isFinite(submitted)) this.processing.push(Math.max(0, completed - submitted));
    }
  }
}

/** What the tracker counted besides the transactions themselves. */
export interface CompletionCounters {
  polls: number;
  pollAnswers: Map<string, number>;
  notFoundPolls: number;
  sweep: SweepResult;
  adaptivePolling: CompletionResult['adaptivePolling'];
}

function tally(values: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) if (v !== undefined) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The result over every transaction followed (`all`, absent ones included). */
export function completionResult(
  all: readonly Tracked[],
  times: CompletionTimes,
  counters: CompletionCounters,
): CompletionResult {
  const tracked = all.filter((t) => !t.absent);
  const count = (pred: (t: Tracked) => boolean) => tracked.filter(pred).length;
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
    endToEndMs: summarizeValues(times.endToEnd),
    processingMs: summarizeValues(times.processing),
    observedMs: summarizeValues(times.observed),
    polls: counters.polls,
    pollAnswers: Object.fromEntries(counters.pollAnswers),
    notFoundPolls: counters.notFoundPolls,
    sweep: counters.sweep,
    adaptivePolling: counters.adaptivePolling,
  };
}
