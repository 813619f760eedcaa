import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AttemptReport, PostingOutcome, Transaction } from '../domain/transaction';
import { PostingError } from '../posting/posting-error';
import type { PostingClient } from '../posting/posting-client';

/** Failure types the workflow and operators see; PostingRejected is the only final one. */
export const FAILURE_TYPES = {
  rejected: 'PostingRejected',
  unavailable: 'PostingUnavailable',
  timeout: 'PostingTimeout',
} as const;

export interface CheckResult extends AttemptReport {
  found: boolean;
}

export interface PostResult extends AttemptReport {
  outcome: PostingOutcome;
}

/** What one downstream call ended in, counted in `txflow_downstream_outcomes` for operators. */
type DownstreamOutcome =
  'found' | 'absent' | 'posted' | 'post_write_recovery' | 'rejected' | 'unavailable' | 'timeout';

function count(outcome: DownstreamOutcome): void {
  Context.current()
    .metricMeter.createCounter('txflow_downstream_outcomes', '1', 'Downstream calls by outcome')
    .add(1, { outcome });
}

export function createPostingActivities(posting: PostingClient) {
  return {
    /** Asks the posting service whether it already holds the transaction. */
    async checkExists(id: string): Promise<CheckResult> {
      const { attempt } = Context.current().info;
      const record = await guarded(attempt, () => posting.find(id, Context.current().cancellationSignal));
      count(record === null ? 'absent' : 'found');
      return { found: record !== null, attempt };
    },

    /**
     * Posts the transaction. A retry looks first: the previous attempt may have been written even
     * though it failed or timed out (post-write failure), and a payment must never be posted twice.
     */
    async postTransaction(transaction: Transaction): Promise<PostResult> {
      const { attempt } = Context.current().info;
      const signal = Context.current().cancellationSignal;
      return guarded(attempt, async () => {
        if (attempt > 1 && (await posting.find(transaction.id, signal)) !== null) {
          count('post_write_recovery');
          return { outcome: 'already_present', attempt };
        }
        await posting.post(transaction, signal);
        count('posted');
        return { outcome: 'posted', attempt };
      });
    },
  };
}

export type PostingActivities = ReturnType<typeof createPostingActivities>;

/** Turns posting errors into Temporal failures that carry the attempt number for the status view. */
async function guarded<T>(attempt: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof PostingError)) throw err;
    count(err.kind);
    throw ApplicationFailure.create({
      type: FAILURE_TYPES[err.kind],
      message: err.message,
      nonRetryable: err.kind === 'rejected',
      details: [{ attempt, status: err.status ?? null }],
    });
  }
}
