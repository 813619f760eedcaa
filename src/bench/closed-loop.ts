import * as hdr from 'hdr-histogram-js';

export interface LoopResult {
  concurrency: number;
  operations: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/**
 * Runs `operation` `count` times with `concurrency` callers, each starting its next call when the last
 * answered: the saturation throughput at that concurrency, and the latency each caller saw.
 */
export async function closedLoop(
  concurrency: number,
  count: number,
  operation: (i: number) => Promise<void>,
): Promise<LoopResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        try {
          await operation(i);
        } catch {
          errors++;
        }
        histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n)); // microseconds
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ms = (p: number) => Math.round(histogram.getValueAtPercentile(p) / 10) / 100;
  const result = {
    concurrency,
    operations: count,
    errors,
    seconds,
    perSecond: (count - errors) / seconds,
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: Math.round(histogram.maxValue / 10) / 100 },
  };
  histogram.destroy();
  return result;
}
