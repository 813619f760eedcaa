import { newHistogram, recordMs, summarize, type Histogram, type LatencySummary } from '../shared/histogram';
import { CpuTally, type CpuMeter } from './cpu-tally';

export interface LoopResult {
  concurrency: number;
  operations: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** CPU milliseconds per operation, by process, when the loop was metered. */
  cpuMsPerOperation?: Record<string, number>;
}

/** A closed-loop measurement that can be run in several rounds and summed up. */
export class LoopTally {
  readonly #histogram: Histogram = newHistogram();
  #operations = 0;
  #errors = 0;
  #seconds = 0;
  readonly #cpu: CpuTally;

  constructor(
    readonly concurrency: number,
    meter?: CpuMeter,
  ) {
    this.#cpu = new CpuTally(meter);
  }

  /**
   * Runs `operation` `count` times with this tally's concurrency, each caller starting its next call when its
   * last one answered: the saturation throughput at that concurrency, and the latency each caller saw.
   * `firstIndex` numbers the calls on from earlier rounds.
   */
  async round(count: number, operation: (i: number) => Promise<void>, firstIndex = 0): Promise<void> {
    let next = 0;
    await this.#cpu.measure(async () => {
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: this.concurrency }, async () => {
          while (next < count) {
            const i = firstIndex + next++;
            const t0 = process.hrtime.bigint();
            try {
              await operation(i);
            } catch {
              this.#errors++;
            }
            recordMs(this.#histogram, Number(process.hrtime.bigint() - t0) / 1e6);
          }
        }),
      );
      this.#seconds += Number(process.hrtime.bigint() - started) / 1e9;
    });
    this.#operations += count;
  }

  result(): LoopResult {
    return {
      concurrency: this.concurrency,
      operations: this.#operations,
      errors: this.#errors,
      seconds: Math.round(this.#seconds * 1000) / 1000,
      perSecond: this.#seconds > 0 ? (this.#operations - this.#errors) / this.#seconds : 0,
      latencyMs: summarize(this.#histogram),
      ...(this.#cpu.metered && { cpuMsPerOperation: this.#cpu.msPer(this.#operations, 2) }),
    };
  }

  destroy(): void {
    this.#histogram.destroy();
  }
}

/** One closed-loop run of `count` calls with `concurrency` callers. */
export async function closedLoop(
  concurrency: number,
  count: number,
  operation: (i: number) => Promise<void>,
): Promise<LoopResult> {
  const tally = new LoopTally(concurrency);
  try {
    await tally.round(count, operation);
    return tally.result();
  } finally {
    tally.destroy();
  }
}

/**
 * Measures several ways of doing the same thing at one concurrency, in `rounds` rounds that run them in turn,
 * forwards then backwards (a, b, c, c, b, a, a, b, c, ...), so that whatever drifts during a run (the server's
 * database growing, another process waking) weighs on all of them alike instead of on whichever ran last.
 */
export async function alternate(
  concurrency: number,
  count: number,
  rounds: number,
  sides: { operation: (i: number) => Promise<void>; meter?: CpuMeter }[],
): Promise<LoopResult[]> {
  const tallies = sides.map((side) => new LoopTally(concurrency, side.meter));
  try {
    for (const { size, first, order } of takingTurns(count, rounds, sides.length)) {
      for (const k of order) await tallies[k]!.round(size, sides[k]!.operation, first);
    }
    return tallies.map((t) => t.result());
  } finally {
    for (const t of tallies) t.destroy();
  }
}

/**
 * `count` calls per side split into `rounds` rounds: each round's size, the index of its first call, and the
 * order the sides take it in (forwards in even rounds, backwards in odd ones).
 */
export function takingTurns(
  count: number,
  rounds: number,
  sides: number,
): { size: number; first: number; order: number[] }[] {
  const base = Math.floor(count / rounds);
  return Array.from({ length: rounds }, (_, r) => {
    const order = Array.from({ length: sides }, (_, k) => k);
    if (r % 2 === 1) order.reverse();
    return {
      size: base + (r < count % rounds ? 1 : 0),
      first: base * r + Math.min(r, count % rounds),
      order,
    };
  });
}
