import {
  ActivityFailure,
  CancellationScope,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { PostingActivities } from '../activities';
import type { TxPhase } from '../domain/phase';
import type {
  LocalCheckEcho,
  LocalCheckGuard,
  ProcessingPolicy,
  ProcessingState,
  Transaction,
} from '../domain/transaction';
import { asActivityFailure, isUnanswered, localTryOptions } from './local-check';
import { DownstreamCalls } from './downstream-calls';
import { LocalPost, echoOf } from './local-post';
import { Pauses, callsBeforePause, isPause } from './pauses';
import type { Progress } from './progress';
import {
  POST_NON_RETRYABLE_TYPES,
  classifyPostFailure,
  type PostResult,
  type PostingSteps,
} from './posting-protocol';
import { FINAL_ERROR_TYPES, LOCAL_LOOK, LOOK, options } from './step-options';
import type { AttemptRounds } from './attempt-rounds';
import { NEXT_ROUND, StepRetries } from './step-retries';
import { WriteSettle } from './write-settle';

type Activities = ActivityInterfaceFor<PostingActivities>;
type LocalActivities = LocalActivityInterfaceFor<PostingActivities>;

/**
 * The transaction's steps: the first check, then the posting protocol's steps (posting-protocol.ts). Each step
 * pauses while its worker's circuit breaker is open (pauses.ts) and tries again, and moves the run's phase.
 */
export class TransactionSteps implements PostingSteps {
  /** The post activity's last failure: the cause of a `failed` verdict. */
  lastFailure: ActivityFailure | undefined;
  private readonly calls: DownstreamCalls;
  private readonly pauses: Pauses;
  private readonly retries: StepRetries;
  private readonly deadline: number;
  private lastPost: PostResult['kind'] | undefined;
  private readonly firstPost: LocalPost;
  private readonly writeSettle: WriteSettle;

  // One proxy per retry policy. The check's and the post's come from the transaction's policy, in the workflow
  // input: visible in the Web UI and replayed exactly.
  private readonly checkActivity: Activities['checkExists'];
  private readonly localCheck: LocalActivities['checkExists'];
  private readonly postActivity: Activities['postTransaction'];
  /** The retry policies as the proxies have them (a round's policy is cut from these). */
  private readonly checkRetry: RetryPolicy;
  private readonly postRetry: RetryPolicy;
  private readonly lookActivity = proxyActivities<PostingActivities>(LOOK).checkExists;

  constructor(
    private readonly transaction: Transaction,
    private readonly policy: ProcessingPolicy,
    private readonly state: ProcessingState,
    private readonly progress: Progress,
    runStart: number,
    /** Called once nothing may cancel the transaction any more (post-guard.ts). */
    private readonly onPastPost: () => void = () => undefined,
  ) {
    this.calls = new DownstreamCalls(state);
    this.pauses = new Pauses(state, progress);
    this.deadline = runStart + policy.deadlineMs;
    this.retries = new StepRetries(state, progress, this.deadline);
    const checkOptions = options('check exists', policy.check, FINAL_ERROR_TYPES);
    const postOptions = options('post', policy.post, POST_NON_RETRYABLE_TYPES);
    this.checkRetry = checkOptions.retry ?? {};
    this.postRetry = postOptions.retry ?? {};
    this.checkActivity = proxyActivities<PostingActivities>(checkOptions).checkExists;
    this.localCheck = proxyLocalActivities<PostingActivities>(
      localTryOptions(checkOptions, policy.check.startToCloseTimeout),
    ).checkExists;
    // Retries only answers that wrote nothing: an unknown outcome, or an attempt that timed out with its POST
    // possibly sent, goes back to the workflow, which waits the write-settle window on a timer.
    this.postActivity = proxyActivities<PostingActivities>(postOptions).postTransaction;
    const localLook = policy.looksLocally
      ? proxyLocalActivities<PostingActivities>(LOCAL_LOOK).checkExists
      : undefined;
    this.writeSettle = new WriteSettle(
      transaction,
      state,
      progress,
      this.calls,
      this.lookActivity,
      localLook,
    );
    this.firstPost = new LocalPost(policy, postOptions, policy.post.startToCloseTimeout);
  }

  /**
   * Whether the downstream already holds the transaction (retried until the deadline, pauses included). With
   * `checkLocally` the first try is a local activity, the fast path of a healthy downstream; if it gets no
   * answer, the check goes on as an activity task under the check's retry policy (and the rate cap).
   */
  async check(): Promise<boolean> {
    // Before the local try, as always: a configured maximum above 3 records its patch marker here (step-retries.ts).
    const rounds = this.retries.rounds(this.checkRetry);
    let pause: ActivityFailure | undefined;
    if (this.policy.checkLocally === true) {
      const tried = await this.checkLocallyOnce();
      if (typeof tried === 'boolean') return tried;
      pause = tried.pause;
    }
    this.firstPost.checkedRemotely();
    const remote = () => this.checkRemotely(rounds, pause);
    return this.firstPost.maybeSent ? CancellationScope.nonCancellable(remote) : remote();
  }

  /** The first check's local try: found or not, or the check goes on as an activity task (after a pause). */
  private async checkLocallyOnce(): Promise<boolean | { pause?: ActivityFailure }> {
    // Not deterministic, and need not be: a local activity's input is not recorded; its echo in the result is.
    const args: [string, Transaction, LocalCheckGuard] = [
      this.transaction.id,
      this.transaction,
      LocalPost.checkGuard(),
    ];
    const run = () =>
      this.calls.call('check', () =>
        asActivityFailure(this.localCheck.executeWithOptions(this.untilDeadline(), args), 'checkExists'),
      );
    try {
      // With a local POST to follow, not cancellable: its echo tells whether a cancel may still be honoured.
      const { found, echo } = await (this.firstPost.wanted ? CancellationScope.nonCancellable(run) : run());
      this.afterLocalCheck(echo);
      this.pauses.resumed();
      return found;
    } catch (thrown) {
      this.afterLocalCheck(echoOf(thrown));
      // No answer: the activity task takes over at once (its own retries back off), showing `processing` meanwhile.
      if (isUnanswered(thrown, FINAL_ERROR_TYPES)) {
        this.progress.flush();
        return {};
      }
      // Nothing was posted yet: a pause past the deadline fails the transaction like any check failure.
      if (!isPause(thrown) || this.pastDeadline()) throw thrown;
      return { pause: thrown };
    }
  }

  private afterLocalCheck(echo: LocalCheckEcho | undefined): void {
    this.firstPost.afterLocalCheck(echo);
    // An earlier try of the first workflow task may have posted: nothing cancels the transaction from here on.
    if (this.firstPost.maybeSent) this.onPastPost();
  }

  /** The check as an activity task, in rounds of retries until the deadline, pausing while the breaker is open. */
  private async checkRemotely(rounds: AttemptRounds, pause: ActivityFailure | undefined): Promise<boolean> {
    if (pause) await this.pauses.wait(pause);
    const args: [string, Transaction] = [this.transaction.id, this.transaction];
    for (;;) {
      const attempts = this.state.attempts;
      try {
        const { found } = await this.calls.call('check', (activityId) =>
          this.checkActivity.executeWithOptions(
            { activityId, ...this.untilDeadline(), retry: rounds.next() },
            args,
          ),
        );
        this.pauses.resumed();
        return found;
      } catch (thrown) {
        const err = await this.retries.afterRound(rounds, thrown, attempts, 'checking');
        if (err === NEXT_ROUND) continue;
        if (!isPause(err) || this.pastDeadline()) throw err;
        await this.pauses.wait(err);
      }
    }
  }

  async post(): Promise<PostResult> {
    let callsBefore = 0;
    const first = this.firstPost.take();
    if (first === 'maybe_sent') return this.maybeSentBefore();
    if (first === 'local') {
      // The first POST from the first workflow task (decision 0026), which upserts once, at its end.
      this.progress.enterLater('posting');
      const end = await this.firstPost.send(this.calls, this.transaction, this.untilDeadline());
      if ('result' in end) {
        this.lastFailure = end.failure;
        return this.posted(end.result);
      }
      callsBefore = end.callsBefore;
    }
    // The step before (a check, a look, the local POST) has ended, paused or not: this is posting.
    this.progress.enter('posting');
    const rounds = this.retries.rounds(this.postRetry);
    for (;;) {
      const attempts = this.state.attempts;
      try {
        const { outcome } = await this.calls.call('post', (activityId) => {
          // A round after the first looks before it posts, as every retry does.
          const retry = rounds.next();
          const before = rounds.before + callsBefore;
          const args: [Transaction, number?] = before > 0 ? [this.transaction, before] : [this.transaction];
          return this.postActivity.executeWithOptions({ activityId, ...this.untilDeadline(), retry }, args);
        });
        this.pauses.resumed();
        return this.posted({ kind: outcome === 'posted' ? 'posted' : 'found' });
      } catch (thrown) {
        // Rounds end only on answers that wrote nothing (the post activity retries nothing else).
        const err = await this.retries.afterRound(rounds, thrown, attempts, 'posting');
        if (err === NEXT_ROUND) continue;
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
        // GET before any re-POST: the paused activity's earlier attempts (or the local POST) posted.
        const postedBefore = callsBeforePause(err) + callsBefore > 0;
        callsBefore = 0;
        if (postedBefore && (await this.lookFor('posting'))) return this.posted({ kind: 'found' });
      }
    }
  }

  settle(round: number): Promise<boolean> {
    return this.writeSettle.wait(this.policy.writeSettleMs, round);
  }

  /**
   * No deadline: once a POST was sent, only an answer may decide between completed and failed. A look that may
   * end the transaction failed is the final check; one after the window that precedes a re-POST is part of the
   * wait to retry.
   */
  async look(): Promise<boolean> {
    const phase = this.lastPost !== 'unknown' || this.pastDeadline() ? 'final_check' : 'waiting_to_retry';
    if (phase === 'final_check') this.progress.enter(phase);
    return this.lookFor(phase);
  }

  /** Looks, pausing while the breaker is open, as long as it takes. */
  private async lookFor(phase: TxPhase): Promise<boolean> {
    const rounds = this.retries.rounds(LOOK.retry ?? {});
    for (;;) {
      const attempts = this.state.attempts;
      try {
        const { found } = await this.calls.call('look', (activityId) =>
          this.lookActivity.executeWithOptions({ activityId, retry: rounds.next() }, [
            this.transaction.id,
            this.transaction,
          ]),
        );
        this.pauses.resumed();
        return found;
      } catch (thrown) {
        const err = await this.retries.afterRound(rounds, thrown, attempts, phase);
        if (err === NEXT_ROUND) continue;
        if (!isPause(err)) throw err;
        await this.pauses.wait(err);
      }
    }
  }

  /**
   * A try before this one of the run's first workflow task may have sent a local POST that left no record: an
   * unknown outcome, as after any POST whose answer was lost. Nothing is sent now.
   */
  private maybeSentBefore(): PostResult {
    this.state.lastError = 'an earlier try of the first workflow task may have sent a local POST';
    this.state.lastErrorKind = 'unknown';
    return this.posted({ kind: 'unknown' });
  }

  private posted(result: PostResult): PostResult {
    this.lastPost = result.kind;
    return result;
  }

  // Date.now() is the workflow task's time: deterministic on replay.
  pastDeadline(): boolean {
    return Date.now() >= this.deadline;
  }

  private untilDeadline(): { scheduleToCloseTimeout: number } {
    return { scheduleToCloseTimeout: Math.max(this.deadline - Date.now(), 1) };
  }
}
