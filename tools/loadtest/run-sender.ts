import type { Dispatcher } from 'undici';
import type { Random } from '../shared/random';
import type { CompletionTracker } from './completion';
import type { LoadTestOptions, PhaseKind } from './options';
import { PhaseRecorder } from './phase-recorder';
import { arrivalsFor, type Clock, type Scheduled } from '../shared/schedule';
import { isAccepted, submit } from './submitter';
import type { Timeline } from './timeline';
import { buildWorkload, type Submission } from './workload';

export interface SenderDeps {
  options: LoadTestOptions;
  clock: Clock;
  random: Random;
  idPrefix: string;
  /** Clock time the run started: recorders count their seconds from it. */
  runStart: number;
  timeline: Timeline;
  tracker: CompletionTracker;
  submitAgent: Dispatcher;
}

/** A window of load planned by plan(): its submissions in time order. */
export interface Plan {
  items: Scheduled<Submission>[];
  transactions: number;
  windowMs: number;
}

/**
 * The submitting side of a run: plans each window of load, sends each submission at its planned time,
 * records its answer (in the phase recorders and the timeline) and hands acknowledged transactions to the
 * completion tracker.
 */
export class Sender {
  readonly #d: SenderDeps;
  #nextN = 0;
  /** What the downstream must hold, per transaction sent. */
  readonly expected = new Map<string, { amount: string; currency: string }>();
  /** Planned time of each transaction's first submission. */
  readonly #firstPlanned = new Map<string, number>();
  readonly #acknowledged = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #recorders: PhaseRecorder[] = [];

  constructor(deps: SenderDeps) {
    this.#d = deps;
  }

  /** Submissions sent and not answered yet. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  newRecorder(name: string, kind: PhaseKind, rate: number, start: number, seconds: number): PhaseRecorder {
    const r = new PhaseRecorder(name, kind, rate, start, this.#d.runStart, seconds);
    this.#recorders.push(r);
    return r;
  }

  /** Plans one window of load: its arrivals, transactions and duplicates. */
  plan(label: string, rate: number, size: { seconds: number } | { count: number }): Plan {
    const o = this.#d.options;
    const { offsets, windowMs } = arrivalsFor(o.arrival, rate, size, this.#d.random);
    const { items, transactions } = buildWorkload({
      arrivals: offsets,
      windowMs,
      phase: label,
      idPrefix: this.#d.idPrefix,
      firstN: this.#nextN,
      duplicates: o.duplicates,
      webhookShare: o.webhookShare,
      random: this.#d.random,
    });
    this.#nextN += transactions.length;
    for (const tx of transactions) this.expected.set(tx.id, { amount: tx.amount, currency: tx.currency });
    return { items, transactions: transactions.length, windowMs };
  }

  /** Starts a submission at its planned time; records it in each recorder and the timeline. */
  send(recorders: PhaseRecorder[], sub: Submission, planned: number, actual: number): void {
    const { options, timeline, tracker, clock } = this.#d;
    const id = sub.tx.id;
    if (!this.#firstPlanned.has(id)) this.#firstPlanned.set(id, planned);
    const flights = recorders.map((r) => r.onSent(planned, actual, sub.kind !== 'original'));
    timeline.onSent(sub.phase, planned, actual);
    const p = submit(options.api, sub.tx, this.#d.submitAgent, options.requestTimeoutMs).then((answer) => {
      const at = clock.now();
      recorders.forEach((r, i) => r.onAnswer(flights[i] as (typeof flights)[number], answer, at));
      const ok = isAccepted(answer);
      timeline.onAnswer(planned, at, ok);
      if (ok) {
        if (!this.#acknowledged.has(id)) timeline.onAcknowledged(at);
        this.#acknowledged.add(id);
        tracker.track(id, this.#firstPlanned.get(id) ?? planned, true);
      }
    });
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  /** Resolves when every submission sent so far has its answer. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Submissions that all failed (timeouts, 5xx) may still have started the transaction: look them up. */
  trackUnacknowledged(): void {
    for (const [id, planned] of this.#firstPlanned) {
      if (!this.#acknowledged.has(id)) this.#d.tracker.track(id, planned, false);
    }
  }

  /** Frees the recorders' histograms. */
  destroy(): void {
    for (const r of this.#recorders) r.destroy();
  }
}
