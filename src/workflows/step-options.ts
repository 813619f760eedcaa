import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import type { ActivityPolicy } from '../domain/transaction';
import { localTryOptions } from './local-check';

/** Final for every call; the activities mark them non-retryable too. */
export const FINAL_ERROR_TYPES = ['PostingRejected', 'PostingConflict'];

const LOOK_ATTEMPT_MS = 10_000;

/** A look after a POST retries until the service answers: the deadline stops new POSTs, not the truth. */
export const LOOK: ActivityOptions = {
  summary: 'look after a POST',
  startToCloseTimeout: LOOK_ATTEMPT_MS,
  retry: {
    initialInterval: 1_000,
    backoffCoefficient: 2,
    maximumInterval: 60_000,
    nonRetryableErrorTypes: FINAL_ERROR_TYPES,
  },
};

/** A step's activity options from the transaction's policy (the workflow input), with its final error types. */
export function options(
  summary: string,
  { startToCloseTimeout, retry }: ActivityPolicy,
  nonRetryableErrorTypes: readonly string[],
): ActivityOptions {
  const policy: RetryPolicy = { ...retry, nonRetryableErrorTypes: [...nonRetryableErrorTypes] };
  return { summary, startToCloseTimeout, retry: policy };
}

/** An early look in the write-settle window as a local activity: one try, short (decision 0027). */
export const LOCAL_LOOK: LocalActivityOptions = localTryOptions(LOOK, LOOK_ATTEMPT_MS);
