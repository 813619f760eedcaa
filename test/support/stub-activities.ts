import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { FAILURE_TYPES, type CheckResult, type PostResult } from '../../src/activities';
import { DOWNSTREAM_UNHEALTHY, type PauseReport } from '../../src/domain/phase';
import type { LocalCheckEcho, LocalCheckGuard } from '../../src/domain/transaction';

/** One answer of the downstream to one activity attempt; `...*` repeats for ever. */
export type Answer =
  | 'absent'
  | 'found'
  | 'posted'
  | 'already_present'
  | keyof typeof FAILURE_TYPES
  | 'unavailable*'
  | 'not_written*'
  /** The worker's circuit breaker is open: no call made, the workflow pauses. */
  | 'paused';

/** The answers for each step, in order: `check` the first look, `post` the POST attempts, `look` the looks after. */
export interface Script {
  check: Answer[];
  post?: Answer[];
  look?: Answer[];
  /** Holds every POST until it resolves: the POST is in flight meanwhile. */
  postGate?: Promise<void>;
}

/** How the activities were called, from the stubs' side. */
export interface Calls {
  check: number;
  post: number;
  look: number;
}

const FINAL: readonly string[] = ['rejected', 'conflict', 'unknown'];

/**
 * The posting activities as a script: each attempt takes the next answer for its step (the look is told from
 * the check by its activity ID, or locally by having no guard) and reports its attempt number as the real activities do.
 */
export function stubActivities(script: Script, calls: Calls) {
  const queues = { check: [...script.check], post: [...(script.post ?? [])], look: [...(script.look ?? [])] };
  const answer = (step: keyof Calls): Answer => {
    calls[step] += 1;
    const next = queues[step][0];
    if (next === undefined) throw ApplicationFailure.nonRetryable(`the script has no ${step} answer left`);
    if (!next.endsWith('*')) queues[step].shift();
    return next;
  };
  const fail = (kind: Answer, attempt: number, echo?: LocalCheckEcho): never => {
    if (kind === 'paused') {
      const report: PauseReport & { echo?: LocalCheckEcho } = {
        ...(echo && { echo }),
        attempt: attempt - 1,
        status: null,
        retryAfterMs: 10,
        probeIntervalMs: 10,
        maxPauseMs: 50,
        lastFailure: 'stub: down',
        lastFailureKind: 'unavailable',
      };
      throw ApplicationFailure.create({
        type: DOWNSTREAM_UNHEALTHY,
        message: 'stub: paused',
        nonRetryable: true,
        details: [report],
      });
    }
    const type = FAILURE_TYPES[kind.replace('*', '') as keyof typeof FAILURE_TYPES];
    throw ApplicationFailure.create({
      type,
      message: `stub: ${kind}`,
      nonRetryable: FINAL.includes(kind),
      details: [{ attempt, status: null, ...(echo && { echo }) }],
    });
  };
  return {
    async checkExists(_id: string, _tx?: unknown, local?: LocalCheckGuard): Promise<CheckResult> {
      const { activityId, attempt, isLocal } = Context.current().info;
      // A local try echoes its guard, as the real activity does (decision 0026).
      const echo =
        isLocal && local
          ? { replayed: local.replaying, firstTry: local.historyLength === 3, scheduledAt: Date.now() }
          : undefined;
      // A local look (decision 0027) has no ID of ours and, unlike the local check, no guard.
      const found = answer(activityId.startsWith('look') || (isLocal && !local) ? 'look' : 'check');
      if (found !== 'absent' && found !== 'found') return fail(found, attempt, echo);
      return { found: found === 'found', attempt, ...(echo && { echo }) };
    },
    async postTransaction(): Promise<PostResult> {
      const { attempt } = Context.current().info;
      const posted = answer('post');
      await script.postGate;
      if (posted !== 'posted' && posted !== 'already_present') return fail(posted, attempt);
      return { outcome: posted, attempt };
    },
  };
}
