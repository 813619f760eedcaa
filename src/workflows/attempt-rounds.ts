import { ActivityFailure, type RetryPolicy } from '@temporalio/workflow';

/**
 * A step's retries in rounds, so that TxAttempts keeps up with them (decision 0007). Temporal writes nothing to the
 * run while it retries an activity, so the workflow learns the attempts only when the activity ends: a check or a
 * POST retrying a failing downstream for an hour would show its first count all along, and the runbook's search
 * (`TxPhase = "posting" AND TxAttempts > 5`) would miss it. Each activity of a step may therefore make at most a
 * round of attempts: 3, 3, 6, 12, ... (the count shown is never less than half the truth, and a day of retries
 * costs about ten rounds). Between rounds the workflow shows the count and waits the backoff the retry policy
 * would have waited, on a durable timer; the next round's policy goes on from where the last one stopped. The
 * retry policy as configured (its maximum attempts, its deadline) still decides when the step gives up.
 */
export class AttemptRounds {
  /** Attempts this step made in the rounds that ended. */
  private made = 0;
  private round = 0;
  /** The attempts the current round may make. */
  private given = 0;
  private readonly backoff: Backoff | undefined;

  /**
   * `enabled`: false runs the step as one activity under the configured policy (what replays a run recorded
   * before rounds existed, see transaction-steps.ts).
   */
  constructor(
    private readonly retry: RetryPolicy,
    enabled = true,
  ) {
    this.backoff = enabled ? backoffOf(retry) : undefined;
  }

  /** The attempts before the next activity of the step (its first attempt is the step's `before + 1`). */
  get before(): number {
    return this.made;
  }

  /** The retry policy of the next activity: the configured one, cut to a round, its backoff going on. */
  next(): RetryPolicy {
    if (!this.backoff) return this.retry;
    this.round += 1;
    const { initial, coefficient, maximum } = this.backoff;
    const limit = this.retry.maximumAttempts ?? 0;
    // ended() ends the step once the limit is reached: at least one is left here.
    const left = limit > 0 ? Math.max(limit - this.made, 1) : Infinity;
    this.given = Math.min(roundSize(this.round), left);
    return {
      ...this.retry,
      initialInterval: Math.min(initial * coefficient ** this.made, maximum),
      maximumAttempts: this.given,
    };
  }

  /**
   * After the step's activity failed having made `attempts`: the wait before the next round, or undefined when
   * the failure stands (not the end of a round: a final error, the deadline, or the configured maximum reached).
   */
  ended(err: unknown, attempts: number): number | undefined {
    const roundEnded = err instanceof ActivityFailure && err.retryState === 'MAXIMUM_ATTEMPTS_REACHED';
    // A round that ran out made exactly its attempts, whatever the failures reported (a timed-out one reports none).
    this.made += roundEnded && this.backoff ? this.given : attempts;
    if (!roundEnded || !this.backoff) return undefined;
    const limit = this.retry.maximumAttempts ?? 0;
    if (limit > 0 && this.made >= limit) return undefined;
    const { initial, coefficient, maximum } = this.backoff;
    return Math.min(initial * coefficient ** Math.max(this.made - 1, 0), maximum);
  }
}

/** Attempts in round `k` (from 1). */
export function roundSize(k: number): number {
  return k <= 1 ? 3 : 3 * 2 ** Math.min(k - 2, 20);
}

interface Backoff {
  initial: number;
  coefficient: number;
  maximum: number;
}

/**
 * Temporal's defaults where the policy is silent (initial 1 s, coefficient 2, maximum 100 x initial). The
 * policies txflow writes are in milliseconds (src/config/policy.ts); one with a duration string (a start by hand)
 * runs without rounds rather than be parsed here.
 */
function backoffOf(retry: RetryPolicy): Backoff | undefined {
  const { initialInterval, maximumInterval } = retry;
  if (!isMs(initialInterval) || !isMs(maximumInterval)) return undefined;
  const initial = initialInterval ?? 1_000;
  return { initial, coefficient: retry.backoffCoefficient ?? 2, maximum: maximumInterval ?? 100 * initial };
}

function isMs(duration: RetryPolicy['initialInterval']): duration is number | undefined {
  return duration === undefined || typeof duration === 'number';
}
