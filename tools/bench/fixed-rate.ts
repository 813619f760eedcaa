import { newHistogram, recordMs, summarize, type LatencySummary } from '../shared/histogram';
import { realClock, runOpenLoop, uniformArrivals, type Scheduled } from '../shared/schedule';

export interface FixedRateResult {
  /** Submissions per second planned (new ones and repeats together). */
  rate: number;
  seconds: number;
  /** Latency from each submission's planned send time, so a sender falling behind shows as latency. */
  fresh: LatencySummary;
  repeats: LatencySummary;
  errors: number;
  /** How late the sender itself left against the plan. */
  scheduleLagMs: LatencySummary;
}

/**
 * Open loop at a fixed rate: every `repeatEvery`-th submission (0: none) repeats an earlier transaction (a
 * client resending it), the others are new. Each call leaves at its planned time
 * whether or not earlier ones answered.
 */
export async function fixedRate(
  rate: number,
  seconds: number,
  repeatEvery: number,
  send: (i: number, repeat: boolean) => Promise<void>,
): Promise<FixedRateResult> {
  if (repeatEvery !== 0 && !(Number.isInteger(repeatEvery) && repeatEvery >= 2)) {
    throw new Error(`repeatEvery must be 0 (no repeats) or a whole number from 2, not ${repeatEvery}`);
  }
  const offsets = uniformArrivals(rate, Math.max(1, Math.round(rate * seconds)));
  const items: Scheduled<number>[] = offsets.map((atMs, i) => ({ atMs, item: i }));
  const fresh = newHistogram();
  const repeats = newHistogram();
  const pending: Promise<void>[] = [];
  let errors = 0;
  let newIds = 0;
  try {
    const schedule = await runOpenLoop(
      items,
      (i, planned) => {
        const repeat = repeatEvery > 0 && i % repeatEvery === repeatEvery - 1 && newIds > 0;
        // New transactions are numbered 0, 1, ...; a repeat names one sent about `repeatEvery` calls earlier.
        const id = repeat ? Math.max(0, newIds - repeatEvery) : newIds++;
        pending.push(
          send(id, repeat).then(
            () => recordMs(repeat ? repeats : fresh, realClock.now() - planned),
            () => {
              errors++;
            },
          ),
        );
      },
      { start: realClock.now() },
    );
    await Promise.all(pending);
    return {
      rate,
      seconds,
      fresh: summarize(fresh),
      repeats: summarize(repeats),
      errors,
      scheduleLagMs: schedule.lagMs,
    };
  } finally {
    fresh.destroy();
    repeats.destroy();
  }
}
