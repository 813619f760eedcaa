import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SkipReason } from '../transactions/redrive-schemas';
import type { PostingRate } from '../../domain/posting-rate';

const READ_LIMIT_MS = 1_000;

/** The operator's levers on /metrics: the posting rate cap in force and what bulk redrives did. */
export class OpsMetrics {
  private readonly rate: Gauge;
  private readonly redriven: Counter<'outcome'>;

  /** `readRate`: the cap in force, read at each scrape (without it, or while it fails, the last value shown). */
  constructor(registry: Registry, readRate?: () => Promise<PostingRate>) {
    const registers = [registry];
    const show = (rate: PostingRate) => this.postingRate(rate);
    this.rate = new Gauge({
      name: 'txflow_posting_max_per_second',
      help: 'Downstream calls per second allowed across all workers, read from Temporal at each scrape; -1: no cap; NaN: not read yet',
      registers,
      // A scrape waits at most a second for Temporal: an unreachable server leaves the last value.
      ...(readRate && {
        collect: () =>
          Promise.race([readRate().then(show), sleep(READ_LIMIT_MS, undefined, { ref: false })]).catch(
            () => undefined,
          ),
      }),
    });
    // Unknown until Temporal answered once: not "no cap" (-1), nor a cap that stops everything (0).
    this.rate.set(Number.NaN);
    this.redriven = new Counter({
      name: 'txflow_redrive_transactions_total',
      help: 'Transactions a bulk redrive matched, by outcome: retried, or the reason it skipped them',
      labelNames: ['outcome'],
      registers,
    });
  }

  postingRate(rate: PostingRate): void {
    this.rate.set(rate.max_per_second ?? -1);
  }

  redrive(outcome: 'retried' | SkipReason): void {
    this.redriven.inc({ outcome });
  }
}
