/** Cumulative CPU seconds of the processes an operation keeps busy, by name (e.g. server, api, client). */
export type CpuMeter = () => Promise<Record<string, number>>;

/** The CPU each metered process spent, summed over the spans measured (rounds of a loop, of a side). */
export class CpuTally {
  readonly #seconds = new Map<string, number>();

  constructor(private readonly meter?: CpuMeter) {}

  /** Runs `work` between two reads of the meter; a process not read before it counts nothing for this span. */
  async measure<T>(work: () => Promise<T>): Promise<T> {
    const before = await this.meter?.();
    const result = await work();
    const after = await this.meter?.();
    for (const [name, seconds] of Object.entries(after ?? {})) {
      const spent = seconds - (before?.[name] ?? seconds);
      this.#seconds.set(name, (this.#seconds.get(name) ?? 0) + spent);
    }
    return result;
  }

  /** Milliseconds per operation by process, rounded to `decimals` places; empty when nothing was metered. */
  msPer(operations: number, decimals: number): Record<string, number> {
    const scale = 10 ** decimals;
    return Object.fromEntries(
      [...this.#seconds].map(([name, s]) => [name, Math.round((s * 1000 * scale) / operations) / scale]),
    );
  }

  get metered(): boolean {
    return this.#seconds.size > 0;
  }
}
