import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import { CHECK_DEFERRED } from '../domain/phase';
import type { AttemptReport, ProcessingState } from '../domain/transaction';
import { callsBeforePause, isPause, pauseReport } from './pauses';

/**
 * The one owner of `state.attempts`: every activity goes through `call`, which adds the attempts Temporal made
 * once the activity has ended, answered or failed, and keeps its error. While it runs its ID is
 * `state.pendingActivityId`; a reader adds the attempt the server shows for that activity, and for no other.
 */
export class DownstreamCalls {
  private readonly issued = new Map<string, number>();

  constructor(private readonly state: ProcessingState) {}

  /** Runs one activity under the ID `<step>-<n>` (its name in the Web UI's pending activities). */
  async call<T extends AttemptReport>(
    step: string,
    activity: (activityId: string) => Promise<T>,
  ): Promise<T> {
    const n = (this.issued.get(step) ?? 0) + 1;
    this.issued.set(step, n);
    this.state.pendingActivityId = `${step}-${n}`;
    try {
      const result = await activity(this.state.pendingActivityId);
      this.state.attempts += result.attempt;
      return result;
    } catch (err) {
      // A cancelled activity is not a failure of the downstream: the transaction ends cancelled, error-free.
      // Nor is a local check deferred to the rate cap: it made no call (the check goes on as an activity task).
      if (err instanceof ActivityFailure && !isCancellation(err) && !isDeferral(err)) {
        this.state.attempts += attemptsMade(err);
        if (!isPause(err)) {
          this.state.lastError = errorSummary(err);
          this.state.lastErrorKind = errorKind(err, step);
        } else if (callsBeforePause(err) > 0) {
          // The pause made no call of its own; its earlier attempts failed as the breaker's last failure did.
          const { lastFailure, lastFailureKind } = pauseReport(err);
          this.state.lastError = lastFailure ?? this.state.lastError;
          this.state.lastErrorKind = lastFailureKind ?? this.state.lastErrorKind;
        }
      }
      throw err;
    } finally {
      delete this.state.pendingActivityId;
    }
  }

  /**
   * As `call`, for a call whose failure decides nothing (an early look): the run's last error stays as it was,
   * and only the calls the activity reported are counted (a look timed out while queued made none).
   */
  async quietly<T extends AttemptReport>(
    step: string,
    activity: (activityId: string) => Promise<T>,
  ): Promise<T> {
    const { attempts, lastError, lastErrorKind } = this.state;
    try {
      return await this.call(step, activity);
    } catch (err) {
      Object.assign(this.state, { lastError, lastErrorKind });
      this.state.attempts = attempts + (err instanceof ActivityFailure ? reportedAttempts(err) : 0);
      throw err;
    }
  }
}

/** A local check that made no call because a posting rate cap is in force (CHECK_DEFERRED). */
export function isDeferral(err: ActivityFailure): boolean {
  return err.cause instanceof ApplicationFailure && err.cause.type === CHECK_DEFERRED;
}

/** The attempt number the activity's last failure reported itself (0: none reported). */
function reportedAttempts(err: ActivityFailure): number {
  for (let failure: unknown = err.cause; failure instanceof Error; failure = failure.cause) {
    const report = failure instanceof ApplicationFailure ? failure.details?.[0] : undefined;
    const attempt = (report as Partial<AttemptReport> | undefined)?.attempt;
    if (typeof attempt === 'number') return attempt;
  }
  return 0;
}

/**
 * The attempts an activity made before it failed: the attempt number its last reported failure carries, plus
 * one for an attempt Temporal timed out (its worker died or stalled), which reported nothing but was a call.
 * A deadline (schedule-to-close) timeout carries no attempt number at all: then it counts one, a lower bound.
 */
export function attemptsMade(err: ActivityFailure): number {
  let timedOut = 0;
  for (let failure: unknown = err.cause; failure instanceof Error; failure = failure.cause) {
    if (failure instanceof TimeoutFailure) timedOut = 1;
  }
  return timedOut + reportedAttempts(err);
}

/** The outer message and the deepest cause's (e.g. "POST /transactions: answered 503"). */
export function errorSummary(err: Error): string {
  let inner = err;
  while (inner.cause instanceof Error) inner = inner.cause;
  return inner.message === err.message ? err.message : `${err.message}: ${inner.message}`;
}

/** The PostingErrorKind of each failure type the activities raise (src/activities/posting-activities.ts). */
const KIND_OF_TYPE: Record<string, string> = {
  PostingRejected: 'rejected',
  PostingNotProcessed: 'not_written',
  PostingOutcomeUnknown: 'unknown',
  PostingConflict: 'conflict',
  PostingUnavailable: 'unavailable',
  PostingTimeout: 'timeout',
};

/**
 * The memo's lastErrorKind: the activity's failure type as a PostingErrorKind; a timed-out attempt is `unknown`
 * for a POST (it may have been sent) and `timeout` for a read; the deadline is `deadline`, whether Temporal stopped
 * at it (schedule-to-close) or before it, because the next backoff would overshoot it (the last failure, retry
 * state TIMEOUT): which of the two happens is a matter of timing, and a redrive by kind must see one kind.
 */
export function errorKind(err: ActivityFailure, step: string): string {
  if (err.retryState === 'TIMEOUT') return 'deadline';
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === 'SCHEDULE_TO_CLOSE') return 'deadline';
    return step === 'post' ? 'unknown' : 'timeout';
  }
  if (cause instanceof ApplicationFailure) return KIND_OF_TYPE[cause.type ?? ''] ?? 'unknown';
  return 'unknown';
}
