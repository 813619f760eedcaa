import { newHistogram, recordMs, valueAt, type Histogram } from '../shared/histogram';
import type { TimelinePoint } from './result';

interface Bucket {
  phase: string;
  planned: number;
  sent: number;
  accepted: number;
  errors: number;
  latency: Histogram | undefined;
  inFlight: number;
  /** Transactions acknowledged (first 2xx) and finished (by the API's completedAt) in this second. */
  acknowledged: number;
  finished: number;
}

/**
 * Per-second figures of the run. Planned, sent and latency go to the second the submission was planned
 * in (what a client arriving then saw); accepted and errors to the second the answer came in (throughput).
 */
export class Timeline {
  readonly #buckets: Bucket[] = [];

  constructor(private readonly origin: number) {}

  #at(t: number): Bucket {
    const second = Math.max(0, Math.floor((t - this.origin) / 1000));
    for (let i = this.#buckets.length; i <= second; i++) {
      const prev = this.#buckets[i - 1];
      this.#buckets.push({
        phase: prev?.phase ?? '',
        planned: 0,
        sent: 0,
        accepted: 0,
        errors: 0,
        latency: undefined,
        inFlight: prev?.inFlight ?? 0,
        acknowledged: 0,
        finished: 0,
      });
    }
    return this.#buckets[second] as Bucket;
  }

  onSent(phase: string, planned: number, sent: number): void {
    const p = this.#at(planned);
    p.phase = phase;
    p.planned++;
    this.#at(sent).sent++;
  }

  onAnswer(planned: number, at: number, accepted: boolean): void {
    const p = this.#at(planned);
    p.latency ??= newHistogram(true);
    recordMs(p.latency, at - planned);
    const a = this.#at(at);
    if (accepted) a.accepted++;
    else a.errors++;
  }

  /** A transaction's first 2xx answer. */
  onAcknowledged(at: number): void {
    this.#at(at).acknowledged++;
  }

  /** A transaction finished at `at` (the API's completedAt, on this clock). */
  onFinished(at: number): void {
    this.#at(at).finished++;
  }

  /** The gauges at `now`. */
  sample(now: number, phase: string, inFlight: number): void {
    const b = this.#at(now);
    if (b.planned === 0) b.phase = phase;
    b.inFlight = inFlight;
  }

  points(): TimelinePoint[] {
    let pending = 0;
    return this.#buckets.map((b, second) => {
      pending += b.acknowledged - b.finished;
      const h = b.latency;
      const ms = (us: number) => Math.round(us) / 1000;
      return {
        second,
        phase: b.phase,
        planned: b.planned,
        sent: b.sent,
        accepted: b.accepted,
        errors: b.errors,
        latencyMs:
          h === undefined
            ? null
            : {
                p50: ms(valueAt(h, 50)),
                p90: ms(valueAt(h, 90)),
                p99: ms(valueAt(h, 99)),
                max: ms(h.maxValue),
              },
        inFlight: b.inFlight,
        finished: b.finished,
        pendingCompletion: pending,
      };
    });
  }

  destroy(): void {
    for (const b of this.#buckets) b.latency?.destroy();
  }
}
