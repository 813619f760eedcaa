import * as hdr from 'hdr-histogram-js';
import { emptySummary, type Histogram, type LatencySummary } from '../shared/histogram';

// The load test's own statistics; its histograms are the shared ones (tools/shared/histogram.ts).

/** The histogram in the HdrHistogram compressed base64 form (readable by every HdrHistogram library). */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * The nearest-rank percentile of plain values (no histogram): the smallest value with at least p% of the
 * values at or under it. `sorted` must be ascending.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Summary of plain millisecond values, with exact (nearest-rank) percentiles. */
export function summarizeValues(values: readonly number[]): LatencySummary {
  if (values.length === 0) return emptySummary();
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    count: sorted.length,
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    p999: round(percentile(sorted, 99.9)),
    max: round(sorted[sorted.length - 1] as number),
  };
}

export interface Bin {
  fromMs: number;
  toMs: number;
  count: number;
}

/**
 * Log-spaced bins (`perDecade` per power of ten) covering the values: latencies spread over orders of
 * magnitude, so equal-width bins would put everything in the first one.
 */
export function logBins(values: readonly number[], perDecade = 10): Bin[] {
  const positive = values.map((v) => Math.max(v, 0.001));
  if (positive.length === 0) return [];
  const lo = Math.floor(Math.log10(Math.min(...positive)) * perDecade);
  const hi = Math.floor(Math.log10(Math.max(...positive)) * perDecade);
  const bins: Bin[] = [];
  for (let k = lo; k <= hi; k++) {
    bins.push({ fromMs: round3(10 ** (k / perDecade)), toMs: round3(10 ** ((k + 1) / perDecade)), count: 0 });
  }
  for (const v of positive) {
    const k = Math.min(hi, Math.max(lo, Math.floor(Math.log10(v) * perDecade)));
    (bins[k - lo] as Bin).count++;
  }
  return bins;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
