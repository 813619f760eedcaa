import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import type { ActivityPolicy } from '../domain/transaction';

/** Final for every call; the activities mark them non-retryable too. */
export const FINAL_ERROR_TYPES = ['PostingRejected', 'PostingConflict'];

/** A look after a POST retries until the service answers: the deadline stops new POSTs, not the truth. */
export const LOOK: ActivityOptions = {
  summary: 'look after a POST',
  startToCloseTimeout: 10_000,
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
