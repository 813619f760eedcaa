import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { PostingActivities } from '../activities';
import type {
  PostingOutcome,
  ProcessTransactionInput,
  ProcessingState,
  RetrySettings,
  Transaction,
  TransactionStatus,
} from '../domain/transaction';
import { TX_STATUS } from '../domain/search-attributes';
import { CANCEL_BEFORE_POST_PATCH, PostGuard } from './post-guard';
import {
  POST_NON_RETRYABLE_TYPES,
  classifyPostFailure,
  postExactlyOnce,
  settleDelayMs,
  type PostResult,
  type PostingSteps,
} from './posting-protocol';
import { statusQuery } from './queries';

// One proxy per retry policy. The values come from each transaction's policy (see executeWithOptions),
// so the policy that applied is in the workflow's input, visible in the Web UI and replayed exactly.
const { checkExists } = proxyActivities<PostingActivities>({ startToCloseTimeout: '10s' });
const { postTransaction } = proxyActivities<PostingActivities>({ startToCloseTimeout: '10s' });

// A look after a POST retries until the service answers: the deadline stops new POSTs, not the truth.
const LOOK: RetrySettings = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  maximumAttempts: 0,
  attemptTimeoutMs: 10_000,
};
// Runs started before the window existed have none in their policy.
const DEFAULT_WRITE_SETTLE_MS = 30_000;

/**
 * Business rule: a transaction is posted to the downstream exactly once.
 * 1. Ask the downstream whether it already holds the transaction; if so, it is completed.
 * 2. Otherwise post it (posting-protocol.ts): answers that wrote nothing are retried after a look; after a POST
 *    whose outcome is unknown, wait the write-settle window, look, and post again only if it is not there.
 * 3. A rejection fails the transaction, and so does the deadline: never without a last look once a POST was
 *    sent, nor before the window after the last unknown POST has passed.
 * 4. A cancellation before the POST is scheduled ends it cancelled; from then on it is ignored.
 */
export async function processTransaction({
  transaction,
  policy,
}: ProcessTransactionInput): Promise<ProcessingState> {
  const state: ProcessingState = {
    status: 'processing',
    attempts: 0,
    lastError: null,
    outcome: null,
    completedAt: null,
  };
  setHandler(statusQuery, () => state);
  // Runs recorded before cancellation support have no marker: they replay exactly as they ran.
  const guard = patched(CANCEL_BEFORE_POST_PATCH) ? new PostGuard(state) : undefined;
  const beforePost = <T>(fn: () => Promise<T>) => (guard ? guard.beforePost(fn) : fn());
  const pastPost = <T>(fn: () => Promise<T>) => (guard ? guard.pastPost(fn) : fn());
  const settle = async (s: ProcessingState) => {
    await guard?.settled();
    return s;
  };
  setStatus(state, 'processing');
  const deadline = workflowInfo().runStartTime.getTime() + policy.deadlineMs;

  try {
    const check = await beforePost(() =>
      checkExists.executeWithOptions(options(policy.check, deadline, 'check exists'), [
        transaction.id,
        transaction,
      ]),
    );
    state.attempts += check.attempt;
    if (check.found) return await settle(complete(state, 'already_present'));
    if (guard?.cancelRequested) return await settle(cancel(state));

    const steps = postingSteps(state, transaction, policy, deadline);
    const verdict = await pastPost(() => postExactlyOnce(steps));
    if (verdict.status === 'completed') return await settle(complete(state, verdict.outcome));
    await guard?.settled();
    return fail(state, steps.lastFailure);
  } catch (err) {
    // Cancelled before the POST was scheduled: nothing was sent.
    if (guard?.cancelRequested && isCancellation(err)) return await settle(cancel(state));
    // Anything but an activity failure is a bug here: let the workflow task fail and retry once it is fixed.
    if (!(err instanceof ActivityFailure)) throw err;
    recordFailure(state, err);
    await guard?.settled();
    return fail(state, err);
  }
}

/** The protocol's steps as activities and a durable timer, recording each failure in the status view. */
function postingSteps(
  state: ProcessingState,
  transaction: Transaction,
  policy: ProcessTransactionInput['policy'],
  deadline: number,
): PostingSteps & { lastFailure?: ActivityFailure } {
  const settleMs = policy.writeSettleMs ?? DEFAULT_WRITE_SETTLE_MS;
  return {
    lastFailure: undefined,
    async post(): Promise<PostResult> {
      try {
        const post = await postTransaction.executeWithOptions(postOptions(policy.post, deadline), [
          transaction,
        ]);
        state.attempts += post.attempt;
        return { kind: post.outcome === 'posted' ? 'posted' : 'found' };
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        recordFailure(state, err);
        this.lastFailure = err;
        return { kind: classifyPostFailure(err) };
      }
    },
    async settle(round) {
      const delay = settleDelayMs(settleMs, round);
      showDetails(state, `waiting ${delay / 1000} s for a POST of unknown outcome to settle`);
      await sleep(delay, { summary: 'write settle: the last POST may still land' });
    },
    async look() {
      // No time limit: once a POST was sent, only an answer may decide between completed and failed.
      const { scheduleToCloseTimeout: _unbounded, ...look } = options(LOOK, deadline, 'look after a POST');
      const check = await checkExists.executeWithOptions(look, [transaction.id, transaction]);
      state.attempts += check.attempt;
      return check.found;
    },
    // Date.now() is the workflow task's time: deterministic on replay.
    pastDeadline: () => Date.now() >= deadline,
  };
}

function options(retry: RetrySettings, deadline: number, summary: string): ActivityOptions {
  return {
    summary,
    startToCloseTimeout: retry.attemptTimeoutMs,
    // Date.now() is the workflow task's time here: deterministic on replay.
    scheduleToCloseTimeout: Math.max(deadline - Date.now(), 1),
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      // 0 means "no limit but the deadline", which Temporal spells as no maximumAttempts at all.
      ...(retry.maximumAttempts > 0 && { maximumAttempts: retry.maximumAttempts }),
      nonRetryableErrorTypes: ['PostingRejected', 'PostingConflict'],
    },
  };
}

/**
 * The post's retry policy retries only answers that wrote nothing. An unknown outcome, and an attempt that timed
 * out with its POST possibly sent, go back to the workflow, which waits the write-settle window on a timer.
 */
function postOptions(retry: RetrySettings, deadline: number): ActivityOptions {
  const base = options(retry, deadline, 'post');
  return {
    ...base,
    retry: {
      ...base.retry,
      nonRetryableErrorTypes: [...POST_NON_RETRYABLE_TYPES],
    },
  };
}

function fail(state: ProcessingState, cause?: ActivityFailure): never {
  setStatus(state, 'failed');
  throw ApplicationFailure.create({
    type: 'TransactionFailed',
    message: state.lastError ?? 'transaction failed',
    nonRetryable: true,
    details: [state],
    cause,
  });
}

function complete(state: ProcessingState, outcome: PostingOutcome): ProcessingState {
  state.outcome = outcome;
  state.completedAt = new Date().toISOString();
  setStatus(state, 'completed');
  return state;
}

/** Ends the transaction as cancelled: a normal result, so the run closes "Completed" with status cancelled. */
function cancel(state: ProcessingState): ProcessingState {
  state.completedAt = new Date().toISOString();
  setStatus(state, 'cancelled');
  return state;
}

function setStatus(state: ProcessingState, status: TransactionStatus): void {
  state.status = status;
  upsertSearchAttributes([{ key: TX_STATUS, value: status }]);
  showDetails(state);
}

/** What an operator reads on the run's page in the Web UI (no history event: read through a query). */
function showDetails(state: ProcessingState, note?: string): void {
  const { status } = state;
  // What an operator reads on the run's page in the Web UI.
  const outcome = state.outcome === 'already_present' ? 'found already posted' : (state.outcome ?? '');
  setCurrentDetails(
    [
      `**${status}**${outcome ? ` (${outcome})` : ''}`,
      `attempts: ${state.attempts}`,
      state.lastError && `last error: ${state.lastError}`,
      note,
    ]
      .filter(Boolean)
      .join('\n\n'),
  );
}

/** Keeps the deepest cause's message (e.g. "POST /transactions: answered 503") and its attempt number. */
function recordFailure(state: ProcessingState, err: unknown): void {
  const messages: string[] = [];
  let failure: unknown = err;
  let counted = false;
  while (failure instanceof Error) {
    messages.push(failure.message);
    if (failure instanceof ApplicationFailure) {
      const attempt = (failure.details?.[0] as { attempt?: number } | undefined)?.attempt;
      if (typeof attempt === 'number') state.attempts += attempt;
      counted ||= typeof attempt === 'number';
    }
    // An attempt Temporal timed out (its worker died or stalled) reported nothing, but it was a call.
    if (failure instanceof TimeoutFailure && !counted) state.attempts += 1;
    failure = failure.cause;
  }
  const outer = messages[0] ?? 'unknown failure';
  const inner = messages[messages.length - 1] ?? outer;
  state.lastError = inner === outer ? outer : `${outer}: ${inner}`;
}
