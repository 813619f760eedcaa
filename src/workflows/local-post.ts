import {
  ActivityFailure,
  ApplicationFailure,
  proxyLocalActivities,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityInterfaceFor,
} from '@temporalio/workflow';
import type { PostingActivities } from '../activities';
import type {
  LocalCheckEcho,
  LocalCheckGuard,
  LocalPostGuard,
  ProcessingPolicy,
  Transaction,
} from '../domain/transaction';
import { isDeferral, type DownstreamCalls } from './downstream-calls';
import { asActivityFailure } from './local-check';
import { isPause } from './pauses';
import { classifyPostFailure, type PostResult } from './posting-protocol';

/** The longest a local POST may take: it must end long before Temporal could hand its workflow task on. */
const LOCAL_POST_MS = 3_000;
/**
 * Core hands a workflow task that local activities keep busy back to the server at 80% of its timeout, and the
 * server gives it to any worker once it times out: a local POST leaves early enough to end 2 s before that.
 */
const HANDBACK_SHARE = 0.8;
const MARGIN_MS = 2_000;

/**
 * What the run's first POST is (decision 0026):
 * - `local`: a local activity, after the first check's local try answered on the first try of the first workflow
 *   task, not on replay;
 * - `maybe_sent`: the check's local try says otherwise (or nothing): an earlier try may have sent a local POST that
 *   left no record, so its outcome is unknown: the run waits the write-settle window and looks before it posts;
 * - `activity`: the post activity, as without postLocally.
 */
export type FirstPost = 'local' | 'maybe_sent' | 'activity';

/** What a local check's failure echoes of its guard (details[0].echo); undefined: nothing (a timeout). */
export function echoOf(err: unknown): LocalCheckEcho | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  return (details as { echo?: LocalCheckEcho } | undefined)?.echo;
}

/**
 * How a local POST ended: the post step's result (with the failure that decided it, if one did), or the calls made
 * before the post activity goes on.
 */
export type LocalPostEnd = { result: PostResult; failure?: ActivityFailure } | { callsBefore: number };

/** The local POST of the run's first workflow task (policy.postLocally, decision 0026). */
export class LocalPost {
  /** What the first POST is; `activity` until the first check's local try decides, and once taken. */
  private plan: FirstPost = 'activity';
  /** Whether this run posts locally when it can (policy and task timeout): deterministic. */
  readonly wanted: boolean;
  private readonly sendWithin: number;
  private sendBy = 0;
  private readonly activity: LocalActivityInterfaceFor<PostingActivities>['postTransaction'];

  /** Called in the run's first activation. */
  constructor(policy: ProcessingPolicy, post: ActivityOptions, attemptTimeoutMs: number) {
    this.sendWithin = workflowInfo().taskTimeoutMs * HANDBACK_SHARE - LOCAL_POST_MS - MARGIN_MS;
    this.wanted = policy.postLocally === true && policy.checkLocally === true && this.sendWithin > 0;
    this.activity = proxyLocalActivities<PostingActivities>({
      ...post,
      startToCloseTimeout: Math.min(attemptTimeoutMs, LOCAL_POST_MS),
      retry: { ...post.retry, maximumAttempts: 1 },
    }).postTransaction;
  }

  /** The check's local try, as it tells the local activity (see LocalCheckGuard). */
  static checkGuard(): LocalCheckGuard {
    const { historyLength, unsafe } = workflowInfo();
    return { replaying: unsafe.isReplaying, historyLength };
  }

  /** The first check did not answer in the first workflow task: the first POST is no longer local. */
  checkedRemotely(): void {
    if (this.plan === 'local') this.plan = 'activity';
  }

  /**
   * The first check's local try has ended, with its echo of the guard (from its marker on replay: deterministic).
   * The first POST may be local only if that try ran in the first try of the run's first workflow task, and not on
   * replay. Otherwise, or if it cannot say (a timeout), an earlier try may have gone as far and sent a local POST
   * that left no record: that POST's outcome is unknown. This covers a first task that failed or timed out, and one
   * completed early without the check's marker (a query answered meanwhile) whose next task's worker died while
   * posting: the worker replaying it runs the check again.
   */
  afterLocalCheck(echo: LocalCheckEcho | undefined): void {
    if (!this.wanted) return;
    this.plan = echo?.firstTry === true && !echo.replayed ? 'local' : 'maybe_sent';
    // The worker's clock, from when its workflow task began: core hands the task back at 80% of its timeout.
    this.sendBy = (echo?.scheduledAt ?? 0) + this.sendWithin;
  }

  /** Whether an earlier try of the first workflow task may have sent a local POST. */
  get maybeSent(): boolean {
    return this.plan === 'maybe_sent';
  }

  /** Takes the plan for the first POST; later POSTs are the post activity's. */
  take(): FirstPost {
    const { plan } = this;
    this.plan = 'activity';
    return plan;
  }

  /**
   * Sends the POST locally. Posted or found, rejected, or of unknown outcome: that is the step's result. A call
   * that surely wrote nothing, or none made (a rate cap, an open breaker), goes on as the post activity, which
   * looks first if a call was made.
   */
  async send(
    calls: DownstreamCalls,
    transaction: Transaction,
    timeouts: { scheduleToCloseTimeout: number },
  ): Promise<LocalPostEnd> {
    // Not deterministic, and need not be: a local activity's input is not part of the run's history.
    const guard: LocalPostGuard = { sendBy: this.sendBy, replaying: workflowInfo().unsafe.isReplaying };
    try {
      const { outcome } = await calls.call('post', () =>
        asActivityFailure(
          this.activity.executeWithOptions(timeouts, [transaction, 0, guard]),
          'postTransaction',
        ),
      );
      return { result: { kind: outcome === 'posted' ? 'posted' : 'found' } };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      if (isDeferral(err) || isPause(err)) return { callsBefore: 0 };
      const kind = classifyPostFailure(err);
      if (kind === 'not_written') return { callsBefore: 1 };
      return { result: { kind }, failure: err };
    }
  }
}
