import {
  ActivityFailure,
  ApplicationFailure,
  TemporalFailure,
  isCancellation,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import { isPause } from './pauses';

/** The longest the local try of the first check may take before the check goes on as an activity task. */
const LOCAL_TRY_MS = 2_000;

/**
 * The local try of the first check (policy.checkLocally, decision 0023): the check's options, one attempt (no
 * retries of its own: what fails goes on as the check activity) and short, since the first workflow task, and a
 * status query waiting on it, lasts as long as the try.
 */
export function localTryOptions(check: ActivityOptions, attemptTimeoutMs: number): LocalActivityOptions {
  return {
    ...check,
    startToCloseTimeout: Math.min(attemptTimeoutMs, LOCAL_TRY_MS),
    retry: { ...check.retry, maximumAttempts: 1 },
  };
}

/**
 * A local activity's failure as the workflow's steps expect any activity's: an ActivityFailure whose cause is the
 * activity's own failure.
 */
export async function asActivityFailure<T>(call: Promise<T>, activityType: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ActivityFailure || !(err instanceof TemporalFailure)) throw err;
    throw new ActivityFailure(err.message, activityType, undefined, 'NON_RETRYABLE_FAILURE', undefined, err);
  }
}

/** Whether the local try got no answer (a GET failure, a timeout, a deferral to the rate cap): not final, no pause. */
export function isUnanswered(err: unknown, finalTypes: readonly string[]): boolean {
  if (!(err instanceof ActivityFailure) || isCancellation(err)) return false;
  const final = err.cause instanceof ApplicationFailure && finalTypes.includes(err.cause.type ?? '');
  return !final && !isPause(err);
}
