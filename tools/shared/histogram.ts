// Latency histograms in microseconds and their percentile summaries in milliseconds: the load test's and
// the bench's.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Percentiles in milliseconds (0 when nothing was recorded). */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * A histogram of microseconds (values recorded as whole µs), 1 µs to an hour with 3 significant digits
 * (0.1% error); it grows past an hour if it must. `compact` ones (2 digits, packed) are for the many
 * per-second buckets of the timeline.
 */
export function newHistogram(compact = false): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: compact ? 2 : 3,
    bitBucketSize: compact ? 'packed' : 32,
    autoResize: true,
  });
}

/** Records a duration in milliseconds (negative ones, from clock rounding, count as 0). */
export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
}

const ms = (us: number): number => Math.round(us) / 1000;

export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return emptySummary();
  return {
    count: histogram.totalCount,
    mean: Math.round(histogram.mean) / 1000,
    p50: ms(valueAt(histogram, 50)),
    p90: ms(valueAt(histogram, 90)),
    p99: ms(valueAt(histogram, 99)),
    p999: ms(valueAt(histogram, 99.9)),
    max: ms(histogram.maxValue),
  };
}

/**
 * The value at a percentile, never above the largest value recorded (HDR answers the top of the value's
 * bucket, which can exceed the exact maximum it also keeps).
 */
export function valueAt(histogram: Histogram, percentile: number): number {
  return Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue);
}

export function emptySummary(): LatencySummary {
  return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
}
