import { ConfigError, bool, decimal, integer, parseEnv } from './env';
import { writeSettleMs } from './posting';
import type { ActivityPolicy, ProcessingPolicy } from '../domain/transaction';

const MINUTE = 60_000;

interface RetryDefaults {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0: no limit but the deadline. */
  maximumAttempts: number;
  attemptTimeoutMs: number;
}

function retrySchema(prefix: string, defaults: RetryDefaults) {
  return {
    [`${prefix}_INITIAL_INTERVAL_MS`]: integer(defaults.initialIntervalMs, 1, 24 * 60 * MINUTE),
    [`${prefix}_BACKOFF`]: decimal(defaults.backoffCoefficient, 1, 100),
    [`${prefix}_MAX_INTERVAL_MS`]: integer(defaults.maximumIntervalMs, 1, 24 * 60 * MINUTE),
    [`${prefix}_MAX_ATTEMPTS`]: integer(defaults.maximumAttempts, 0, 1_000_000),
    [`${prefix}_ATTEMPT_TIMEOUT_MS`]: integer(defaults.attemptTimeoutMs, 100, 60 * MINUTE),
  };
}

/** The env's numbers as Temporal's activity options: the workflow uses them as they are. */
function activityPolicy(prefix: string, e: Record<string, number>): ActivityPolicy {
  const read = (suffix: string) => e[`${prefix}_${suffix}`] as number;
  const maximumAttempts = read('MAX_ATTEMPTS');
  return {
    startToCloseTimeout: read('ATTEMPT_TIMEOUT_MS'),
    retry: {
      initialInterval: read('INITIAL_INTERVAL_MS'),
      backoffCoefficient: read('BACKOFF'),
      maximumInterval: read('MAX_INTERVAL_MS'),
      // 0 means "no limit but the deadline", which Temporal spells as no maximumAttempts at all.
      ...(maximumAttempts > 0 && { maximumAttempts }),
    },
  };
}

const CHECK_DEFAULTS: RetryDefaults = {
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
  maximumAttempts: 0,
  attemptTimeoutMs: 10_000,
};
const POST_DEFAULTS: RetryDefaults = { ...CHECK_DEFAULTS, initialIntervalMs: 500, maximumIntervalMs: 60_000 };

export const policySchema = {
  ...retrySchema('CHECK_RETRY', CHECK_DEFAULTS),
  ...retrySchema('POST_RETRY', POST_DEFAULTS),
  PROCESSING_DEADLINE_MS: integer(24 * 60 * MINUTE, 1_000, 30 * 24 * 60 * MINUTE),
  // The first check as a local activity while no posting rate cap is in force (docs/decisions/0023).
  CHECK_LOCALLY: bool(true),
  // The first POST as a local activity in the same workflow task, after a local check (docs/decisions/0026).
  POST_LOCALLY: bool(true),
};

/** The retry policies and total deadline given to each new transaction's workflow. */
export function processingPolicy(env = process.env): ProcessingPolicy {
  const { CHECK_LOCALLY: checkLocally, POST_LOCALLY: postLocally, ...numbers } = parseEnv(policySchema, env);
  const e = numbers as Record<string, number>;
  // Temporal refuses a retry policy whose maximum interval is below its initial one, and the workflow would
  // retry that task for ever: refuse it here.
  for (const prefix of ['CHECK_RETRY', 'POST_RETRY']) {
    const initial = e[`${prefix}_INITIAL_INTERVAL_MS`] as number;
    if ((e[`${prefix}_MAX_INTERVAL_MS`] as number) < initial) {
      throw new ConfigError(
        `Invalid configuration:\n  ${prefix}_MAX_INTERVAL_MS=${JSON.stringify(env[`${prefix}_MAX_INTERVAL_MS`] ?? '')}: ` +
          `must be at least ${prefix}_INITIAL_INTERVAL_MS (${initial})`,
      );
    }
  }
  return {
    check: activityPolicy('CHECK_RETRY', e),
    post: activityPolicy('POST_RETRY', e),
    deadlineMs: e.PROCESSING_DEADLINE_MS as number,
    writeSettleMs: writeSettleMs(env),
    checkLocally,
    postLocally: checkLocally && postLocally,
    looksLocally: checkLocally,
  };
}
