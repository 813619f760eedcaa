import { Counter, Gauge, type Registry } from 'prom-client';
import type { SkipReason } from '../transactions/redrive-schemas';
import type { PostingRate } from '../../domain/posting-rate';

/** The operator's levers on /metrics: the posting rate cap in force and what bulk redrives did. */
export class OpsMetrics {
  private readonly rate: Gauge;
  private readonly redriven: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rate = new Gauge({
      name: 'txflow_posting_max_per_second',
      help: 'Downstream calls per second allowed across all workers, as this API last read it (health, admin); -1: no cap',
      registers,
    });
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
