import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Random } from './random';
import { newHistogram, summarize, type LatencySummary } from './histogram';

/** Monotonic milliseconds, and a way to wait; a fake one makes the scheduler testable. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` (at least). */
  sleep(ms: number): Promise<void>;
  /** Lets pending I/O run before going on. */
  yield(): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
  yield: () => yieldToLoop(),
};

/** Offsets in ms of `count` arrivals evenly spaced at `rate` per second: 0, 1000/rate, 2000/rate, ... */
export function uniformArrivals(rate: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 1000) / rate);
}

/** Offsets in ms of `count` arrivals of a Poisson process of `rate` per second (exponential gaps). */
export function poissonArrivals(rate: number, count: number, random: Random): number[] {
  const offsets: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    offsets.push(t);
    t += (-Math.log(1 - random()) * 1000) / rate;
  }
  return offsets;
}

export interface Scheduled<T> {
  /** When to send, in ms after the schedule's start. */
  atMs: number;
  item: T;
}

export interface ScheduleReport {
  dispatched: number;
  /** How late the sends left against their planned time. */
  lagMs: LatencySummary;
  /** Planned end (start + last atMs) and when the last send actually left, both on the clock. */
  plannedEnd: number;
  actualEnd: number;
}

/** Items a single pass fires before letting I/O (answers) run, when the sender is behind. */
const BATCH = 64;

/**
 * Open loop: fires `send(item, planned, actual)` for each item at `start + atMs` on the clock, whether or not
 * earlier sends have answered. `send` starts the request and returns at once; its promise is never awaited
 * here, so slow answers cannot delay later sends (no coordinated omission). When the process itself falls
 * behind (a busy event loop), the late items leave as soon as possible with their planned time unchanged, so
 * latency measured from the planned time includes the delay; the lag is reported.
 *
 * `items` must be sorted by atMs. Stops early (what is left is not sent) when `signal` aborts.
 */
export async function runOpenLoop<T>(
  items: readonly Scheduled<T>[],
  send: (item: T, planned: number, actual: number) => unknown,
  options: { start: number; clock?: Clock; signal?: AbortSignal },
): Promise<ScheduleReport> {
  const clock = options.clock ?? realClock;
  const { start, signal } = options;
  const lag = newHistogram();
  let i = 0;
  let actualEnd = start;
  try {
    while (i < items.length && signal?.aborted !== true) {
      const first = items[i] as Scheduled<T>;
      const wait = start + first.atMs - clock.now();
      if (wait > 0) {
        await clock.sleep(wait);
        continue;
      }
      // Everything due now leaves now, up to a batch; then answers get a turn.
      let fired = 0;
      let now = clock.now();
      while (i < items.length && fired < BATCH) {
        const next = items[i] as Scheduled<T>;
        const planned = start + next.atMs;
        if (planned > now) break;
        send(next.item, planned, now);
        lag.recordValue(Math.round((now - planned) * 1000));
        actualEnd = now;
        i++;
        fired++;
        now = clock.now();
      }
      if (fired === BATCH) await clock.yield();
    }
    const last = items[items.length - 1];
    return {
      dispatched: i,
      lagMs: summarize(lag),
      plannedEnd: start + (last?.atMs ?? 0),
      actualEnd,
    };
  } finally {
    lag.destroy();
  }
}

/**
 * The arrivals of a phase: `count` of them, or as many as fit in `seconds`, at `rate` per second. Returns
 * the offsets and the phase window in ms (for a count: count / rate seconds).
 */
export function arrivalsFor(
  arrival: 'uniform' | 'poisson',
  rate: number,
  size: { seconds: number } | { count: number },
  random: Random,
): { offsets: number[]; windowMs: number } {
  if ('count' in size) {
    const offsets =
      arrival === 'uniform' ? uniformArrivals(rate, size.count) : poissonArrivals(rate, size.count, random);
    return { offsets, windowMs: (size.count * 1000) / rate };
  }
  const windowMs = size.seconds * 1000;
  if (arrival === 'uniform') {
    return { offsets: uniformArrivals(rate, Math.max(1, Math.round(size.seconds * rate))), windowMs };
  }
  const offsets: number[] = [];
  for (let t = 0; t < windowMs; t += (-Math.log(1 - random()) * 1000) / rate) offsets.push(t);
  return { offsets, windowMs };
}
