import {
  ActivityFailure,
  proxyActivities,
  sleep,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { PostingActivities } from '../activities';
import type { ActivityPolicy, ProcessingPolicy, ProcessingState, Transaction } from '../domain/transaction';
import { DownstreamCalls } from './downstream-calls';
import {
  POST_NON_RETRYABLE_TYPES,
  classifyPostFailure,
  settleDelayMs,
  type PostResult,
  type PostingSteps,
} from './posting-protocol';
import { showDetails } from './run-details';

type Activities = ActivityInterfaceFor<PostingActivities>;

/** Final for every call; the activities mark them non-retryable too. */
const FINAL_ERROR_TYPES = ['PostingRejected', 'PostingConflict'];

/** A look after a POST retries until the service answers: the deadline stops new POSTs, not the truth. */
const LOOK: ActivityOptions = {
  summary: 'look after a POST',
  startToCloseTimeout: 10_000,
  retry: {
    initialInterval: 1_000,
    backoffCoefficient: 2,
    maximumInterval: 60_000,
    nonRetryableErrorTypes: FINAL_ERROR_TYPES,
  },
};

/** The transaction's steps: the first check, then the posting protocol's steps (posting-protocol.ts). */
export class TransactionSteps implements PostingSteps {
  /** The post activity's last failure: the cause of a `failed` verdict. */
  lastFailure: ActivityFailure | undefined;
  private readonly calls: DownstreamCalls;
  private readonly deadline: number;

  // One proxy per retry policy. The check's and the post's come from the transaction's policy, in the workflow
  // input: visible in the Web UI and replayed exactly.
  private readonly checkActivity: Activities['checkExists'];
  private readonly postActivity: Activities['postTransaction'];
  private readonly lookActivity = proxyActivities<PostingActivities>(LOOK).checkExists;

  constructor(
    private readonly transaction: Transaction,
    private readonly policy: ProcessingPolicy,
    private readonly state: ProcessingState,
    runStart: number,
  ) {
    this.calls = new DownstreamCalls(state);
    this.deadline = runStart + policy.deadlineMs;
    this.checkActivity = proxyActivities<PostingActivities>(
      options('check exists', policy.check, FINAL_ERROR_TYPES),
    ).checkExists;
    // Retries only answers that wrote nothing: an unknown outcome, or an attempt that timed out with its POST
    // possibly sent, goes back to the workflow, which waits the write-settle window on a timer.
    this.postActivity = proxyActivities<PostingActivities>(
      options('post', policy.post, POST_NON_RETRYABLE_TYPES),
    ).postTransaction;
  }

  /** Whether the downstream already holds the transaction (retried until the deadline). */
  async check(): Promise<boolean> {
    const { found } = await this.calls.call('check', (activityId) =>
      this.checkActivity.executeWithOptions(this.untilDeadline(activityId), [
        this.transaction.id,
        this.transaction,
      ]),
    );
    return found;
  }

  async post(): Promise<PostResult> {
    try {
      const { outcome } = await this.calls.call('post', (activityId) =>
        this.postActivity.executeWithOptions(this.untilDeadline(activityId), [this.transaction]),
      );
      return { kind: outcome === 'posted' ? 'posted' : 'found' };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      this.lastFailure = err;
      return { kind: classifyPostFailure(err) };
    }
  }

  async settle(round: number): Promise<void> {
    const delay = settleDelayMs(this.policy.writeSettleMs, round);
    showDetails(this.state, `waiting ${delay / 1000} s for a POST of unknown outcome to settle`);
    await sleep(delay, { summary: 'write settle: the last POST may still land' });
  }

  /** No deadline: once a POST was sent, only an answer may decide between completed and failed. */
  async look(): Promise<boolean> {
    const { found } = await this.calls.call('look', (activityId) =>
      this.lookActivity.executeWithOptions({ activityId }, [this.transaction.id, this.transaction]),
    );
    return found;
  }

  // Date.now() is the workflow task's time: deterministic on replay.
  pastDeadline(): boolean {
    return Date.now() >= this.deadline;
  }

  private untilDeadline(activityId: string): ActivityOptions {
    return { activityId, scheduleToCloseTimeout: Math.max(this.deadline - Date.now(), 1) };
  }
}

function options(
  summary: string,
  { startToCloseTimeout, retry }: ActivityPolicy,
  nonRetryableErrorTypes: readonly string[],
): ActivityOptions {
  const policy: RetryPolicy = { ...retry, nonRetryableErrorTypes: [...nonRetryableErrorTypes] };
  return { summary, startToCloseTimeout, retry: policy };
}
