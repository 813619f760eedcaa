import { temporal } from '@temporalio/proto';

const Source = temporal.api.enums.v1.RateLimitSource;

/**
 * Where the cap in force comes from: `operator` (set at run time, wins), `worker` (the workers'
 * POSTING_MAX_PER_SECOND), `none` (no cap of ours; the server's own default limit applies).
 */
export type PostingRateSource = 'operator' | 'worker' | 'none';

export interface PostingRate {
  /** Activity tasks (downstream calls) per second across all workers; null: no cap. */
  max_per_second: number | null;
  source: PostingRateSource;
  /** The operator's value (null: none set), and who set it when, as Temporal records it. */
  operator: { max_per_second: number | null; reason: string | null; updated_at: string | null };
}

type Config = temporal.api.taskqueue.v1.ITaskQueueConfig | null | undefined;
type Effective =
  temporal.api.workflowservice.v1.DescribeTaskQueueResponse.IEffectiveRateLimit | null | undefined;

/** Pure: the rate from what DescribeTaskQueue answers (the effective rate and its source, the operator's config). */
export function postingRateOf(config: Config, effective: Effective): PostingRate {
  const set = config?.queueRateLimit;
  const operatorRate = set?.rateLimit ? round(set.rateLimit.requestsPerSecond ?? 0) : null;
  const seconds = set?.metadata?.updateTime?.seconds;
  const operator = {
    max_per_second: operatorRate,
    reason: set?.metadata?.reason || null,
    updated_at: seconds == null ? null : new Date(Number(seconds) * 1000).toISOString(),
  };
  if (operatorRate !== null) return { max_per_second: operatorRate, source: 'operator', operator };
  if (effective?.rateLimitSource === Source.RATE_LIMIT_SOURCE_WORKER) {
    return { max_per_second: round(effective.requestsPerSecond ?? 0), source: 'worker', operator };
  }
  return { max_per_second: null, source: 'none', operator };
}

// Temporal keeps the rate as a float32: 0.1 comes back as 0.10000000149.
const round = (n: number) => Math.round(n * 1000) / 1000;
