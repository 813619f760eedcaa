/**
 * The posting protocol, apart from Temporal so that it can be run against thousands of simulated downstreams
 * (test/posting-protocol.model.test.ts). The workflow supplies the steps as activities and a durable timer.
 *
 * The rule: a POST whose outcome is unknown (no answer in time, a connection lost, a 5xx not documented as
 * "not processed") may still be written, now or later. So after one, nothing is posted again and nothing is
 * declared failed until the write-settle window has passed and a look has found nothing.
 */
import { ApplicationFailure, type ActivityFailure } from '@temporalio/workflow';

/**
 * What ends the post activity instead of being retried: a rejection, an unknown outcome, and an attempt that timed
 * out (its POST may have been sent). Its retry policy retries only answers that wrote nothing, and reads.
 */
export const POST_NON_RETRYABLE_TYPES = [
  'PostingRejected',
  'PostingConflict',
  'PostingOutcomeUnknown',
  'TemporalTimeout:StartToClose',
  // What the SDK reports for an attempt cut short by its worker's shutdown: its POST may have left.
  'WorkerShutdown',
] as const;

/** How one post activity ended. */
export type PostResult =
  /** This POST was written, or a retry's look found an earlier one. */
  | { kind: 'posted' }
  | { kind: 'found' }
  /** Refused: nothing written by this POST. */
  | { kind: 'rejected' }
  /** Only POSTs that surely wrote nothing, until the deadline stopped the retries. */
  | { kind: 'not_written' }
  /** The last POST may have been written (also: its attempt timed out, or the deadline cut it short). */
  | { kind: 'unknown' };

export interface PostingSteps {
  /** Sends the POST (retrying only what surely wrote nothing, looking before each re-POST). */
  post(): Promise<PostResult>;
  /**
   * Waits the write-settle window (a durable timer); `round` counts the unknown outcomes so far, from 1. Looks
   * early on the way (earlyLooksMs): true as soon as one finds the transaction, which ends the wait.
   */
  settle(round: number): Promise<boolean>;
  /** Asks the downstream whether it holds the transaction. */
  look(): Promise<boolean>;
  /** Whether the deadline for new POSTs has passed. */
  pastDeadline(): boolean;
}

export type Verdict =
  | { status: 'completed'; outcome: 'posted' | 'already_present' }
  | { status: 'failed'; result: PostResult['kind'] };

/** Posts a transaction the downstream did not hold at the first look, exactly once. */
export async function postExactlyOnce(steps: PostingSteps): Promise<Verdict> {
  for (let round = 1; ; round += 1) {
    const result = await steps.post();
    if (result.kind === 'posted') return { status: 'completed', outcome: 'posted' };
    if (result.kind === 'found') return { status: 'completed', outcome: 'already_present' };
    if (result.kind === 'unknown') {
      // Found early, the write has landed: a POST writes at most once, so nothing is left to wait for. Not found,
      // nothing changes: no re-POST and no failure before the window has passed.
      if (await steps.settle(round)) return { status: 'completed', outcome: 'already_present' };
      if (await steps.look()) return { status: 'completed', outcome: 'already_present' };
      if (steps.pastDeadline()) return { status: 'failed', result: result.kind };
      continue;
    }
    // This POST wrote nothing, but an earlier one may have (the window has passed since it), or the service
    // broke its word about a status: a POST was sent, so one look decides before "failed".
    if (await steps.look()) return { status: 'completed', outcome: 'already_present' };
    return { status: 'failed', result: result.kind };
  }
}

/**
 * The wait after the n-th unknown outcome: the window for the first ten, then doubling up to ten minutes (or the
 * window, if longer), so that a downstream failing every POST for a day adds about 150 rounds to the history,
 * not thousands, while an ordinary fault rate never waits more than the window per round.
 */
export function settleDelayMs(windowMs: number, round: number): number {
  const doublings = Math.min(Math.max(round - FLAT_ROUNDS, 0), 20);
  return Math.min(windowMs * 2 ** doublings, Math.max(windowMs, MAX_SETTLE_DELAY_MS));
}
const FLAT_ROUNDS = 10;
const MAX_SETTLE_DELAY_MS = 10 * 60_000;

/**
 * When, within a wait of `delayMs`, to look early for a POST of unknown outcome: most such POSTs were written
 * at once (a 5xx after the write, an answer lost) and are found after a second, so the transaction completes
 * then rather than after the whole window. A look that finds nothing changes nothing.
 */
export function earlyLooksMs(delayMs: number): number[] {
  return EARLY_LOOKS_MS.filter((at) => at + EARLY_LOOK_TIME_MS <= delayMs);
}
const EARLY_LOOKS_MS = [1_000, 5_000];
/** The time a look gets before the window ends (a shorter one would time out rather than answer). */
export const EARLY_LOOK_TIME_MS = 1_000;

/** What a failed post activity means for the protocol: only failures that surely wrote nothing are not "unknown". */
export function classifyPostFailure(err: ActivityFailure): PostResult['kind'] {
  const type = err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
  if (type === 'PostingRejected' || type === 'PostingConflict') return 'rejected';
  // The activity's retries follow only these, so no attempt before the last one can have had an unknown outcome.
  if (type === 'PostingNotProcessed' || type === 'PostingUnavailable' || type === 'PostingTimeout') {
    return 'not_written';
  }
  return 'unknown';
}
