import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  sleep,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { PostingActivities } from '../activities';
import type { ActivityPolicy, ProcessingPolicy, ProcessingState, Transaction } from '../domain/transaction';
import { DownstreamCalls } from './downstream-calls';
import { Pauses, callsBeforePause, isPause } from './pauses';
import type { Progress } from './progress';
import {
  POST_NON_RETRYABLE_TYPES,
  classifyPostFailure,
  earlyLooksMs,
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

/**
 * The transaction's steps: the first check, then the posting protocol's steps (posting-protocol.ts). Each step
 * pauses while its worker's circuit breaker is open (pauses.ts) and tries again, and moves the run's phase.
 */
export class TransactionSteps implements PostingSteps {
  /** The post activity's last failure: the cause of a `failed` verdict. */
  lastFailure: ActivityFailure | undefined;
  private readonly calls: DownstreamCalls;
  private readonly pauses: Pauses;
  private readonly deadline: number;
  private lastPost: PostResult['kind'] | undefined;

  // One proxy per retry policy. The check's and the post's come from the transaction's policy, in the workflow
  // input: visible in the Web UI and replayed exactly.
  private readonly checkActivity: Activities['checkExists'];
  private readonly postActivity: Activities['postTransaction'];
  private readonly lookActivity = proxyActivities<PostingActivities>(LOOK).checkExists;

  constructor(
    private readonly transaction: Transaction,
    private readonly policy: ProcessingPolicy,
    private readonly state: ProcessingState,
    private readonly progress: Progress,
    runStart: number,
  ) {
    this.calls = new DownstreamCalls(state);
    this.pauses = new Pauses(state, progress);
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

  /** Whether the downstream already holds the transaction (retried until the deadline, pauses included). */
  async check(): Promise<boolean> {
    for (;;) {
      try {
        const { found } = await this.calls.call('check', (activityId) =>
          this.checkActivity.executeWithOptions(this.untilDeadline(activityId), [
            this.transaction.id,
            this.transaction,
          ]),
        );
        this.pauses.resumed();
        return found;
      } catch (err) {
        // Nothing was posted yet: a pause past the deadline fails the transaction like any check failure.
        if (!isPause(err) || this.pastDeadline()) throw err;
        await this.pauses.wait(err);
      }
    }
  }

  async post(): Promise<PostResult> {
    // The step before (a check or a look) has ended, paused or not: this is posting.
    this.progress.enter('posting');
    for (;;) {
      try {
        const { outcome } = await this.calls.call('post', (activityId) =>
          this.postActivity.executeWithOptions(this.untilDeadline(activityId), [this.transaction]),
        );
        this.pauses.resumed();
        return this.posted({ kind: outcome === 'posted' ? 'posted' : 'found' });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        if (!isPause(err)) {
          this.pauses.resumed();
          this.lastFailure = err;
          return this.posted({ kind: classifyPostFailure(err) });
        }
        // The POSTs before the pause wrote nothing (the post activity retries nothing else): the final check
        // decides, as after any retries the deadline stopped.
        if (this.pastDeadline()) return this.posted({ kind: 'not_written' });
        await this.pauses.wait(err);
        // GET before any re-POST: the paused activity's earlier attempts posted.
        if (callsBeforePause(err) > 0 && (await this.lookFor())) return this.posted({ kind: 'found' });
      }
    }
  }

  async settle(round: number): Promise<boolean> {
    const delay = settleDelayMs(this.policy.writeSettleMs, round);
    this.progress.enter('waiting_to_retry');
    showDetails(this.state, `waiting ${delay / 1000} s for a POST of unknown outcome to settle`);
    const start = Date.now();
    for (const at of earlyLooksMs(delay)) {
      await sleep(Math.max(start + at - Date.now(), 1), { summary: 'write settle: look early' });
      if (await this.earlyLook(start + delay)) return true;
    }
    const left = start + delay - Date.now();
    if (left > 0) await sleep(left, { summary: 'write settle: the last POST may still land' });
    return false;
  }

  /** One look within the window, bounded by its end; a look that gets no answer (or pauses) is just skipped. */
  private async earlyLook(windowEnd: number): Promise<boolean> {
    try {
      const { found } = await this.calls.call('look', (activityId) =>
        this.lookActivity.executeWithOptions(
          { activityId, scheduleToCloseTimeout: Math.max(windowEnd - Date.now(), 1) },
          [this.transaction.id, this.transaction],
        ),
      );
      return found;
    } catch (err) {
      // A conflict (or a refusal) is an answer, and final; anything else only means this look did not get one.
      if (err instanceof ActivityFailure && !isFinal(err)) return false;
      throw err;
    }
  }

  /**
   * No deadline: once a POST was sent, only an answer may decide between completed and failed. A look that may
   * end the transaction failed is the final check; one after the window that precedes a re-POST is part of the
   * wait to retry.
   */
  async look(): Promise<boolean> {
    if (this.lastPost !== 'unknown' || this.pastDeadline()) this.progress.enter('final_check');
    return this.lookFor();
  }

  /** Looks, pausing while the breaker is open, as long as it takes. */
  private async lookFor(): Promise<boolean> {
    for (;;) {
      try {
        const { found } = await this.calls.call('look', (activityId) =>
          this.lookActivity.executeWithOptions({ activityId }, [this.transaction.id, this.transaction]),
        );
        this.pauses.resumed();
        return found;
      } catch (err) {
        if (!isPause(err)) throw err;
        await this.pauses.wait(err);
      }
    }
  }

  private posted(result: PostResult): PostResult {
    this.lastPost = result.kind;
    return result;
  }

  // Date.now() is the workflow task's time: deterministic on replay.
  pastDeadline(): boolean {
    return Date.now() >= this.deadline;
  }

  private untilDeadline(activityId: string): ActivityOptions {
    return { activityId, scheduleToCloseTimeout: Math.max(this.deadline - Date.now(), 1) };
  }
}

function isFinal(err: ActivityFailure): boolean {
  return err.cause instanceof ApplicationFailure && FINAL_ERROR_TYPES.includes(err.cause.type ?? '');
}

function options(
  summary: string,
  { startToCloseTimeout, retry }: ActivityPolicy,
  nonRetryableErrorTypes: readonly string[],
): ActivityOptions {
  const policy: RetryPolicy = { ...retry, nonRetryableErrorTypes: [...nonRetryableErrorTypes] };
  return { summary, startToCloseTimeout, retry: policy };
}
