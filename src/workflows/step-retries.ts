import { ActivityFailure, patched, sleep, type RetryPolicy } from '@temporalio/workflow';
import type { TxPhase } from '../domain/phase';
import type { ProcessingState } from '../domain/transaction';
import { AttemptRounds, roundSize } from './attempt-rounds';
import type { Progress } from './progress';

const ROUNDS_PATCH = 'attempt-rounds';

/** What afterRound answers when the step goes on with another round. */
export const NEXT_ROUND = Symbol('next round');

/** The workflow's side of a step's retries in rounds (the rule: attempt-rounds.ts). */
export class StepRetries {
  constructor(
    private readonly state: ProcessingState,
    private readonly progress: Progress,
    private readonly deadline: number,
  ) {}

  /**
   * A step's retries in rounds (attempt-rounds.ts). A run recorded before rounds existed may hold an activity that
   * ran out of a configured maximum above a round's size: replayed with rounds, it would read as a round's end.
   * So such a policy takes rounds only behind a patch marker; unlimited retries (the default) never run out.
   */
  rounds(retry: RetryPolicy): AttemptRounds {
    const limit = retry.maximumAttempts ?? 0;
    return new AttemptRounds(retry, limit === 0 || limit <= roundSize(1) || patched(ROUNDS_PATCH));
  }

  /**
   * After a step's activity failed: at the end of a round of attempts (attempt-rounds.ts) shows the attempts
   * (TxAttempts), waits the backoff on a timer and answers NEXT_ROUND. Otherwise the failure to handle: as thrown,
   * or, when the wait would pass the deadline (where one applies), as Temporal states retries the deadline stopped.
   */
  async afterRound(
    rounds: AttemptRounds,
    err: unknown,
    attemptsBefore: number,
    phase: TxPhase,
  ): Promise<unknown> {
    const made = rounds.before;
    const wait = rounds.ended(err, this.state.attempts - attemptsBefore);
    // A round that ran out made all its attempts, though timed-out ones report none.
    this.state.attempts = attemptsBefore + (rounds.before - made);
    if (wait === undefined || !(err instanceof ActivityFailure)) return err;
    // Looks have no deadline: once a POST was sent, only an answer decides.
    const deadline = phase === 'checking' || phase === 'posting';
    if (deadline && Date.now() + wait >= this.deadline) {
      this.state.lastErrorKind = 'deadline';
      return stoppedByDeadline(err);
    }
    // The step's own phase, also after a pause (`paused` is over: the step is retrying again).
    this.progress.enter(phase);
    await sleep(wait, { summary: `retry: attempt ${rounds.before + 1} of this step` });
    return NEXT_ROUND;
  }
}

/**
 * A round's last failure, restated as Temporal states retries whose next backoff would pass the deadline (retry state
 * TIMEOUT, which errorKind in downstream-calls.ts calls `deadline`).
 */
function stoppedByDeadline(err: ActivityFailure): ActivityFailure {
  return new ActivityFailure(
    err.message,
    err.activityType,
    err.activityId,
    'TIMEOUT',
    err.identity,
    err.cause,
  );
}
