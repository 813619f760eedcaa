import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
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
  TransactionStatus,
} from '../domain/transaction';
import { TX_STATUS } from '../domain/search-attributes';
import { CANCEL_BEFORE_POST_PATCH, PostGuard } from './post-guard';
import { statusQuery } from './queries';

// One proxy per retry policy. The values come from each transaction's policy (see executeWithOptions),
// so the policy that applied is in the workflow's input, visible in the Web UI and replayed exactly.
const { checkExists } = proxyActivities<PostingActivities>({ startToCloseTimeout: '10s' });
const { postTransaction } = proxyActivities<PostingActivities>({ startToCloseTimeout: '10s' });

// After the deadline, one last look decides between "completed" and "failed" when a POST's outcome is unknown.
const FINAL_CHECK: RetrySettings = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 5_000,
  maximumAttempts: 3,
  attemptTimeoutMs: 10_000,
};

/**
 * Business rule: a transaction is posted to the downstream exactly once.
 * 1. Ask the downstream whether it already holds the transaction; if so, it is completed.
 * 2. Otherwise post it. The post activity retries under its policy and checks again before every re-POST.
 * 3. A rejection fails the transaction at once. When the deadline passes with the POST's outcome
 *    unknown, a last check decides: found means completed, anything else means failed.
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
      checkExists.executeWithOptions(options(policy.check, deadline, 'check exists'), [transaction.id]),
    );
    state.attempts += check.attempt;
    if (check.found) return await settle(complete(state, 'already_present'));
    if (guard?.cancelRequested) return await settle(cancel(state));

    const post = await pastPost(() =>
      postTransaction.executeWithOptions(options(policy.post, deadline, 'post'), [transaction]),
    );
    state.attempts += post.attempt;
    return await settle(complete(state, post.outcome));
  } catch (err) {
    // Cancelled before the POST was scheduled: nothing was sent.
    if (guard?.cancelRequested && isCancellation(err)) return await settle(cancel(state));
    // Anything but an activity failure is a bug here: let the workflow task fail and retry once it is fixed.
    if (!(err instanceof ActivityFailure)) throw err;
    recordFailure(state, err);
    if (outcomeUnknown(err) && (await pastPost(() => postedAfterAll(state, transaction.id)))) {
      return await settle(complete(state, 'already_present'));
    }
    setStatus(state, 'failed');
    await guard?.settled();
    throw ApplicationFailure.create({
      type: 'TransactionFailed',
      message: state.lastError ?? 'transaction failed',
      nonRetryable: true,
      details: [state],
      cause: err,
    });
  }
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
      nonRetryableErrorTypes: ['PostingRejected'],
    },
  };
}

/** A POST may have been written before the deadline cut it short: look once more before saying "failed". */
async function postedAfterAll(state: ProcessingState, id: string): Promise<boolean> {
  try {
    const check = await checkExists.executeWithOptions(
      { ...options(FINAL_CHECK, Date.now() + 60_000, 'final check'), scheduleToCloseTimeout: 60_000 },
      [id],
    );
    state.attempts += check.attempt;
    return check.found;
  } catch (err) {
    // Anything but an activity failure is a bug here: let the workflow task fail and retry once it is fixed.
    if (!(err instanceof ActivityFailure)) throw err;
    recordFailure(state, err);
    return false;
  }
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
  // What an operator reads on the run's page in the Web UI.
  const outcome = state.outcome === 'already_present' ? 'found already posted' : (state.outcome ?? '');
  setCurrentDetails(
    [
      `**${status}**${outcome ? ` (${outcome})` : ''}`,
      `attempts: ${state.attempts}`,
      state.lastError && `last error: ${state.lastError}`,
    ]
      .filter(Boolean)
      .join('\n\n'),
  );
}

/** A POST that gave up without a rejection may have been written; a failed check posted nothing. */
function outcomeUnknown(err: ActivityFailure): boolean {
  const rejected = err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
  return err.activityType === 'postTransaction' && !rejected;
}

/** Keeps the deepest cause's message (e.g. "POST /transactions: answered 503") and its attempt number. */
function recordFailure(state: ProcessingState, err: unknown): void {
  const messages: string[] = [];
  let failure: unknown = err;
  while (failure instanceof Error) {
    messages.push(failure.message);
    if (failure instanceof ApplicationFailure) {
      const attempt = (failure.details?.[0] as { attempt?: number } | undefined)?.attempt;
      if (typeof attempt === 'number') state.attempts += attempt;
    }
    failure = failure.cause;
  }
  const outer = messages[0] ?? 'unknown failure';
  const inner = messages[messages.length - 1] ?? outer;
  state.lastError = inner === outer ? outer : `${outer}: ${inner}`;
}
