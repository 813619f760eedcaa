import { ActivityFailure, TemporalFailure } from '@temporalio/workflow';

/**
 * A local activity's failure as the workflow's steps expect any activity's: an ActivityFailure whose cause is the
 * activity's own failure. (Which shape the SDK gives is checked by test/local-check.test.ts.)
 */
export async function asActivityFailure<T>(call: Promise<T>, activityType: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ActivityFailure || !(err instanceof TemporalFailure)) throw err;
    throw new ActivityFailure(err.message, activityType, undefined, 'NON_RETRYABLE_FAILURE', undefined, err);
  }
}
