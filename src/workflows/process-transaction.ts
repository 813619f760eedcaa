import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  setHandler,
  setWorkflowOptions,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  PostingOutcome,
  ProcessTransactionInput,
  ProcessingState,
  TransactionStatus,
} from '../domain/transaction';
import { TX_STATUS } from '../domain/search-attributes';
import { PAUSED_REASON } from '../domain/phase';
import { announce } from './announce';
import { PostGuard } from './post-guard';
import { isPause } from './pauses';
import { Progress } from './progress';
import { postExactlyOnce } from './posting-protocol';
import { TransactionSteps } from './transaction-steps';
import { statusQuery } from './queries';
import { showDetails } from './run-details';
import { versioningBehavior } from './versioning';

/** How a transaction ends; `failed` carries the activity failure that decided it. */
type Ending =
  | { status: 'completed'; outcome: PostingOutcome }
  | { status: 'cancelled' }
  | { status: 'failed'; cause: ActivityFailure | undefined; byDeadline?: boolean };

/**
 * Business rule: a transaction is posted to the downstream exactly once.
 * 1. Ask the downstream whether it already holds the transaction; if so, it is completed.
 * 2. Otherwise post it (posting-protocol.ts): answers that wrote nothing are retried after a look; after a POST
 *    whose outcome is unknown, wait the write-settle window, look, and post again only if it is not there.
 * 3. A rejection fails the transaction, and so does the deadline: never without a last look once a POST was
 *    sent, nor before the window after the last unknown POST has passed.
 * 4. A cancellation before the POST is scheduled ends it cancelled; from then on it is ignored.
 * 5. The final status is announced to the transaction's callback URLs, if it has any.
 */
// On a versioned worker (WORKER_BUILD_ID) a transaction ends on the build it started on: a new build never replays
// its history (decision 0022).
setWorkflowOptions(versioningBehavior('PINNED'), processTransaction);
export async function processTransaction({
  transaction,
  policy,
  callbacks,
}: ProcessTransactionInput): Promise<ProcessingState> {
  const state: ProcessingState = {
    status: 'processing',
    attempts: 0,
    lastError: null,
    outcome: null,
    completedAt: null,
  };
  setHandler(statusQuery, () => state);
  const guard = new PostGuard(state);
  const progress = new Progress(state);
  const steps = new TransactionSteps(
    transaction,
    policy,
    state,
    progress,
    workflowInfo().runStartTime.getTime(),
    () => guard.markPosting(),
  );
  // With a local check the first workflow task lasts until the check has answered: `processing` joins that
  // task's one upsert (the phase it moves to), rather than an upsert of its own.
  setStatus(state, 'processing', policy.checkLocally ? progress : undefined);

  const ending = await decide(guard, steps);
  end(state, ending, progress);
  // An accepted cancel update answers with the final state before the run closes.
  await guard.settled();
  // 5. The final status goes to the callback URLs, in deliveries that outlive this run (announce.ts).
  await announce(callbacks, transaction, state);
  if (ending.status === 'failed') throw transactionFailed(state, ending.cause);
  return state;
}

async function decide(guard: PostGuard, steps: TransactionSteps): Promise<Ending> {
  try {
    if (await guard.beforePost(() => steps.check()))
      return { status: 'completed', outcome: 'already_present' };
    if (guard.cancelRequested) return { status: 'cancelled' };
    const verdict = await guard.pastPost(() => postExactlyOnce(steps));
    if (verdict.status === 'completed') return verdict;
    return { status: 'failed', cause: steps.lastFailure, byDeadline: verdict.result !== 'rejected' };
  } catch (err) {
    // Cancelled before the POST was scheduled: nothing was sent.
    if (guard.cancelRequested && isCancellation(err)) return { status: 'cancelled' };
    // Anything but an activity failure is a bug here: let the workflow task fail and retry once it is fixed.
    if (!(err instanceof ActivityFailure)) throw err;
    return { status: 'failed', cause: err, byDeadline: isPause(err) };
  }
}

function end(state: ProcessingState, ending: Ending, progress: Progress): void {
  if (ending.status === 'completed') state.outcome = ending.outcome;
  // A failed transaction has no completion time: the API shows the run's close time.
  if (ending.status !== 'failed') state.completedAt = new Date().toISOString();
  if (ending.status === 'failed' && ending.byDeadline) {
    // A pause (or retries) outlasted the deadline: the last error says why it stopped trying.
    state.lastError ??= `deadline passed while paused: ${PAUSED_REASON}`;
    state.lastErrorKind = 'deadline';
  }
  state.status = ending.status;
  // One upsert: the final status with the phase and attempts.
  progress.enter('done', [{ key: TX_STATUS, value: ending.status }]);
  showDetails(state);
}

/** A failed transaction fails its run ("Failed" in the Web UI), with the final state as details. */
function transactionFailed(state: ProcessingState, cause: ActivityFailure | undefined): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'TransactionFailed',
    message: state.lastError ?? 'transaction failed',
    nonRetryable: true,
    details: [state],
    cause,
  });
}

/** The status, where the API reads it (query), lists it (TxStatus search attribute) and an operator sees it. */
function setStatus(state: ProcessingState, status: TransactionStatus, joinNext?: Progress): void {
  state.status = status;
  const pair = { key: TX_STATUS, value: status };
  if (joinNext) joinNext.later([pair]);
  else upsertSearchAttributes([pair]);
  showDetails(state);
}
