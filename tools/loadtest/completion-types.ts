import type { Dispatcher } from 'undici';
import type { AdaptiveRateOptions } from './adaptive-rate';
import type { LatencySummary } from '../shared/histogram';
import type { Clock } from '../shared/schedule';

/** One transaction followed until it is completed, failed or cancelled. */
export interface Tracked {
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
