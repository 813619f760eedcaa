import { ApplicationFailure, Context } from '@temporalio/activity';
import { postTimeLeft } from './attempt-time';
import type {
  AttemptReport,
  LocalCheckEcho,
  LocalCheckGuard,
  LocalPostGuard,
  PostingOutcome,
  Transaction,
} from '../domain/transaction';
import { PostingError } from '../posting/posting-error';
import { recordPath, type PostingClient } from '../posting/posting-client';
import { conflictingFields } from '../posting/content';
import type { CallKind, CircuitBreaker } from '../posting/circuit-breaker';
import {
  CHECK_DEFERRED,
  DOWNSTREAM_UNHEALTHY,
  LOCAL_POST_NOT_SENT,
  PAUSED_REASON,
  type PauseReport,
} from '../domain/phase';

/**
 * Failure types the workflow and operators see. The post activity's retry policy retries only what surely wrote
 * nothing (PostingNotProcessed) and what was only read (GET failures); PostingRejected and PostingOutcomeUnknown
 * end the activity and the workflow decides (see posting-protocol.ts).
 */
export const FAILURE_TYPES = {
  rejected: 'PostingRejected',
  not_written: 'PostingNotProcessed',
  unknown: 'PostingOutcomeUnknown',
  conflict: 'PostingConflict',
  unavailable: 'PostingUnavailable',
  timeout: 'PostingTimeout',
} as const;

export interface CheckResult extends AttemptReport {
  found: boolean;
  /** A local try's guard, echoed (also in its failures' details): recorded in its marker. */
  echo?: LocalCheckEcho;
}

export interface PostResult extends AttemptReport {
  outcome: PostingOutcome;
}

/**
 * What one downstream call ended in, counted in `txflow_downstream_outcomes` for operators. A retried post looks
 * first and tells which kind of failure the attempt before it met: `post_write_recovery` (it was written after all:
 * not posted again) or `pre_write_failure` (nothing written: posted now).
 */
type DownstreamOutcome =
  | 'found'
  | 'absent'
  | 'posted'
  | 'pre_write_failure'
  | 'post_write_recovery'
  | 'rejected'
  | 'not_written'
  | 'unknown'
  | 'conflict'
  | 'unavailable'
  | 'timeout'
  /** Not a call: the breaker was open. */
  | 'paused'
  /** Not a call: a local POST that a later try of its workflow task must not send (decision 0026). */
  | 'local_post_not_sent';

function count(outcome: DownstreamOutcome): void {
  const ctx = Context.current();
  ctx.metricMeter
    .createCounter('txflow_downstream_outcomes', '1', 'Downstream calls by outcome')
    .add(1, { outcome });
  // At debug, one line per downstream call; with tracing on it carries the trace ID (docs/tracing.md).
  ctx.log.debug('downstream call', { outcome });
}

/**
 * With `breaker` (the worker's circuit breaker), an activity whose breaker is open makes no call: it fails at once
 * with DownstreamUnhealthy, final whatever the retry policy says, and its workflow pauses (docs/reliability.md).
 * While `capInForce()` (a posting rate cap on the task queue, worker/rate-cap-watch.ts), a local check makes no
 * call either: CheckDeferredToCap, and the workflow checks through the capped task queue instead.
 */
export function createPostingActivities(
  posting: PostingClient,
  breaker?: CircuitBreaker,
  capInForce: () => boolean = () => false,
) {
  /** A local call under a rate cap makes no call: the workflow sends it through the capped task queue. */
  function deferIfCapped(attempt: number, step = 'check'): void {
    if (!Context.current().info.isLocal || !capInForce()) return;
    throw ApplicationFailure.create({
      type: CHECK_DEFERRED,
      message: `posting rate cap in force: no local call, the ${step} goes through the task queue`,
      nonRetryable: true,
      details: [{ attempt: attempt - 1, status: null }],
    });
  }

  function pauseIfUnhealthy(attempt: number, call: CallKind): void {
    if (!breaker || breaker.allow(call)) return;
    count('paused');
    const report: PauseReport = {
      // This attempt made no call; the ones before it did.
      attempt: attempt - 1,
      status: null,
      retryAfterMs: breaker.retryAfterMs(),
      probeIntervalMs: breaker.options.probeIntervalMs,
      maxPauseMs: breaker.options.maxPauseMs,
      lastFailure: breaker.lastFailure?.message ?? null,
      lastFailureKind: breaker.lastFailure?.kind ?? null,
    };
    throw ApplicationFailure.create({
      type: DOWNSTREAM_UNHEALTHY,
      message: `paused: ${PAUSED_REASON} (circuit breaker ${breaker.state}): no call made`,
      nonRetryable: true,
      details: [report],
    });
  }

  /** The record the service holds, or null; one held with other content is a conflict, never "found". */
  async function held(
    id: string,
    expected: Transaction | undefined,
    signal: AbortSignal,
    timeoutMs?: number,
  ) {
    const record = await posting.find(id, signal, timeoutMs);
    const differing = record && expected ? conflictingFields(expected, record) : [];
    if (differing.length > 0) {
      throw new PostingError(
        'conflict',
        `GET ${recordPath(id)}: the service holds ${id} with another ${differing.join(', ')}: not posted, not completed`,
      );
    }
    return record;
  }

  return {
    /**
     * Asks the posting service whether it already holds the transaction. Given the transaction (runs started
     * before it was passed give only the ID), a record with another amount, currency or accounts is a conflict.
     */
    async checkExists(id: string, expected?: Transaction, local?: LocalCheckGuard): Promise<CheckResult> {
      const { info } = Context.current();
      const { attempt } = info;
      // A local try of the check says whether it was asked for on replay, whatever its outcome (decision 0026).
      const echo: LocalCheckEcho | undefined =
        info.isLocal && local
          ? {
              replayed: local.replaying,
              firstTry: local.historyLength === FIRST_TRY_LENGTH,
              scheduledAt: info.scheduledTimestampMs > 0 ? info.scheduledTimestampMs : Date.now(),
            }
          : undefined;
      // A local call (the check's try, an early look) gives its GET less than its own time, so that its failure,
      // not Temporal's timeout (which would also cut the call), is what its marker records.
      const limit =
        info.isLocal && info.startToCloseTimeoutMs > LOCAL_GET_MARGIN_MS
          ? info.startToCloseTimeoutMs - LOCAL_GET_MARGIN_MS
          : undefined;
      try {
        deferIfCapped(attempt);
        pauseIfUnhealthy(attempt, 'find');
        const signal = Context.current().cancellationSignal;
        const record = await guarded(attempt, () => held(id, expected, signal, limit));
        count(record === null ? 'absent' : 'found');
        return { found: record !== null, attempt, ...(echo && { echo }) };
      } catch (err) {
        throw echo ? withEcho(err, echo) : err;
      }
    },

    /**
     * Posts the transaction. Its retries follow answers that wrote nothing (503, 429, connection refused), and
     * still look first: a payment must never be posted twice. An answer that leaves the outcome unknown ends the
     * activity; the workflow waits the write-settle window before it looks and posts again.
     * `attemptsBefore`: the step's attempts in earlier rounds, which wrote nothing either.
     */
    async postTransaction(
      transaction: Transaction,
      attemptsBefore = 0,
      local?: LocalPostGuard,
    ): Promise<PostResult> {
      const startedAt = Date.now();
      const { info } = Context.current();
      const { attempt } = info;
      // Before the cap and the breaker: their answers ("no call made") would let the workflow post blind.
      if (info.isLocal) {
        refuseLocalRepeat(local, startedAt);
        deferIfCapped(attempt, 'POST');
      }
      pauseIfUnhealthy(attempt, 'post');
      const signal = Context.current().cancellationSignal;
      return guarded(attempt, async () => {
        // A retry, or the first attempt of a later round of retries (`attemptsBefore`, src/workflows/attempt-rounds.ts).
        if (attempt > 1 || attemptsBefore > 0) {
          if ((await held(transaction.id, transaction, signal)) !== null) {
            count('post_write_recovery');
            return { outcome: 'already_present', attempt };
          }
          count('pre_write_failure');
        }
        // Once this attempt's time is up, Temporal starts the next one, which looks before it posts. A POST
        // sent later than that could land after its look: a duplicate. So the POST must end inside the attempt.
        const timeLeft = await postTimeLeft(startedAt);
        if (timeLeft <= 0) {
          throw new PostingError(
            'not_written',
            'POST not sent: this attempt ran out of time (the next one looks first)',
          );
        }
        try {
          await posting.post(transaction, signal, timeLeft);
        } catch (err) {
          // Whatever went wrong once the POST may have left (a bug, a cancellation), its outcome is unknown.
          if (err instanceof PostingError) throw err;
          throw new PostingError('unknown', `POST /transactions: ${String(err)}: outcome unknown`);
        }
        count('posted');
        return { outcome: 'posted', attempt };
      });
    },
  };
}

export type PostingActivities = ReturnType<typeof createPostingActivities>;

/**
 * A local POST is sent only from the first try of its run's first workflow task, early enough to end long before
 * Temporal could give the task to another worker (at 80% of the task's timeout, or when the worker dies). A
 * second try finds no record of the first one's local POST, so it must not send one blind: it reports the outcome
 * unknown, having sent nothing, and the workflow waits the write-settle window and looks first (decision 0026).
 * `sendBy` is by this worker's clock (from the check's scheduled time, which the check echoed).
 */
function refuseLocalRepeat(local: LocalPostGuard | undefined, now: number): void {
  if (local && !local.replaying && now <= local.sendBy) return;
  const why = !local
    ? 'no guard given'
    : local.replaying
      ? 'its workflow task is a later try'
      : `${now - local.sendBy} ms past its time`;
  count('local_post_not_sent');
  Context.current().log.warn('local POST not sent', { why });
  throw ApplicationFailure.create({
    type: LOCAL_POST_NOT_SENT,
    message: `local POST not sent (${why}): an earlier try may have sent it, so its outcome is unknown`,
    nonRetryable: true,
    // No call made by this one; the earlier try's, if any, is not known.
    details: [{ attempt: 0, status: null }],
  });
}

/** What a local check's GET leaves of its attempt's time for its failure to be reported. */
const LOCAL_GET_MARGIN_MS = 300;

/** The history's length in the first try of a run's first workflow task: started, task scheduled, task started. */
const FIRST_TRY_LENGTH = 3;

/** The failure with `echo` in its details (a local check's guard, recorded in its marker). */
function withEcho(err: unknown, echo: LocalCheckEcho): unknown {
  if (!(err instanceof ApplicationFailure)) return err;
  const details = (err.details?.[0] as object | undefined) ?? {};
  return ApplicationFailure.create({
    type: err.type ?? undefined,
    message: err.message,
    nonRetryable: err.nonRetryable ?? undefined,
    details: [{ ...details, echo }],
    cause: err.cause,
  });
}

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
      // Final whatever the retry policy says: a retry after an unknown outcome must wait the settle window.
      nonRetryable: err.kind === 'rejected' || err.kind === 'conflict' || err.kind === 'unknown',
      details: [{ attempt, status: err.status ?? null }],
    });
  }
}
