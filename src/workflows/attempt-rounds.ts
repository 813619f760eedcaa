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

  constructor(private readonly retry: RetryPolicy) {}

  /** The attempts before the next activity of the step (its first attempt is the step's `before + 1`). */
  get before(): number {
    return this.made;
  }

  /** Attempts made outside the rounds (the local try of a check). */
  counted(attempts: number): void {
    this.made += attempts;
  }

  /** The retry policy of the next activity: the configured one, cut to a round, its backoff going on. */
  next(): RetryPolicy {
    this.round += 1;
    const { initial, coefficient, maximum } = backoff(this.retry);
    const limit = this.retry.maximumAttempts ?? 0;
    const left = limit > 0 ? limit - this.made : Infinity;
    return {
      ...this.retry,
      initialInterval: Math.min(initial * coefficient ** this.made, maximum),
      maximumAttempts: Math.min(roundSize(this.round), left),
    };
  }

  /**
   * After the step's activity failed having made `attempts`: the wait before the next round, or undefined when
   * the failure stands (not the end of a round: a final error, the deadline, or the configured maximum reached).
   */
  ended(err: unknown, attempts: number): number | undefined {
    this.made += attempts;
    if (!(err instanceof ActivityFailure) || err.retryState !== 'MAXIMUM_ATTEMPTS_REACHED') return undefined;
    const limit = this.retry.maximumAttempts ?? 0;
    if (limit > 0 && this.made >= limit) return undefined;
    const { initial, coefficient, maximum } = backoff(this.retry);
    return Math.min(initial * coefficient ** Math.max(this.made - 1, 0), maximum);
  }
}

/** Attempts in round `k` (from 1). */
export function roundSize(k: number): number {
  return k <= 1 ? 3 : 3 * 2 ** Math.min(k - 2, 20);
}

/** Temporal's defaults where the policy is silent (initial 1 s, coefficient 2, maximum 100 x initial). */
function backoff(retry: RetryPolicy): { initial: number; coefficient: number; maximum: number } {
  const initial = milliseconds(retry.initialInterval) ?? 1_000;
  return {
    initial,
    coefficient: retry.backoffCoefficient ?? 2,
    maximum: milliseconds(retry.maximumInterval) ?? 100 * initial,
  };
}

/** The policies here are written in milliseconds (src/config/policy.ts and the workflow's own). */
function milliseconds(duration: RetryPolicy['initialInterval']): number | undefined {
  if (duration === undefined) return undefined;
  if (typeof duration !== 'number') throw new Error(`retry intervals are milliseconds here, not ${duration}`);
  return duration;
}
