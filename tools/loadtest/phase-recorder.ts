import { newHistogram, recordMs, summarize, valueAt, type Histogram } from '../shared/histogram';
import { encodeHistogram } from './metrics';
import type { PhaseKind } from './options';
import type { PhaseResult } from './result';
import { answerKey, isAccepted, type SubmitAnswer } from './submitter';

/** A submission on its way: when it was planned to leave and when it did. */
export interface InFlight {
  planned: number;
  sent: number;
}

/** Counts and latency histograms of one phase's submissions. */
export class PhaseRecorder {
  transactions = 0;
  planned = 0;
  duplicates = 0;
  sent = 0;
  answered = 0;
  accepted = 0;
  maxInFlight = 0;
  lastAnswerAt: number;
  readonly answers = new Map<string, number>();
  readonly errorSamples = new Map<string, string>();
  readonly inFlight = new Set<InFlight>();
  readonly #fromPlanned: Histogram = newHistogram();
  readonly #fromSent: Histogram = newHistogram();
  readonly #lag: Histogram = newHistogram();

  constructor(
    readonly name: string,
    readonly kind: PhaseKind,
    readonly rate: number,
    /** Clock time the phase starts, and the run started. */
    readonly start: number,
    readonly runStart: number,
    /** Planned length; the whole stress phase's is known when its ramp stops. */
    public plannedSeconds: number,
  ) {
    this.lastAnswerAt = start;
  }

  onSent(planned: number, sent: number, duplicate: boolean): InFlight {
    this.sent++;
    if (duplicate) this.duplicates++;
    recordMs(this.#lag, sent - planned);
    const flight = { planned, sent };
    this.inFlight.add(flight);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    return flight;
  }

  onAnswer(flight: InFlight, answer: SubmitAnswer, at: number): void {
    this.inFlight.delete(flight);
    this.answered++;
    this.lastAnswerAt = Math.max(this.lastAnswerAt, at);
    const key = answerKey(answer);
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
    if (isAccepted(answer)) this.accepted++;
    else if (!this.errorSamples.has(key)) this.errorSamples.set(key, answer.detail ?? '');
    recordMs(this.#fromPlanned, at - flight.planned);
    recordMs(this.#fromSent, at - flight.sent);
  }

  /**
   * p99 latency from the planned time at `now`, counting each unanswered submission at its age so far: a
   * lower bound of the final p99, available before the stragglers answer.
   */
  p99SoFar(now: number): number {
    if (this.inFlight.size === 0) return summarize(this.#fromPlanned).p99;
    const h = newHistogram();
    try {
      h.add(this.#fromPlanned);
      for (const f of this.inFlight) recordMs(h, now - f.planned);
      return summarize(h).p99;
    } finally {
      h.destroy();
    }
  }

  /** p99 from the planned time of the answered ones, for the progress line. */
  p99Answered(): number {
    return this.#fromPlanned.totalCount === 0 ? 0 : valueAt(this.#fromPlanned, 99) / 1000;
  }

  maxLagMs(): number {
    return this.#lag.maxValue / 1000;
  }

  result(): PhaseResult {
    const answers = Object.fromEntries([...this.answers].sort(([a], [b]) => a.localeCompare(b)));
    const errors = Object.fromEntries(Object.entries(answers).filter(([k]) => !/^2\d\d$/.test(k)));
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
    const elapsedSeconds = Math.max(this.lastAnswerAt - this.start, 1) / 1000;
    return {
      name: this.name,
      kind: this.kind,
      rate: this.rate,
      startSecond: round((this.start - this.runStart) / 1000),
      plannedSeconds: round(this.plannedSeconds),
      elapsedSeconds: round(elapsedSeconds),
      transactions: this.transactions,
      submissions: {
        planned: this.planned,
        sent: this.sent,
        answered: this.answered,
        accepted: this.accepted,
        duplicates: this.duplicates,
      },
      answers,
      errors,
      errorRate: this.answered > 0 ? round(errorCount / this.answered, 4) : 0,
      plannedPerSecond: this.plannedSeconds > 0 ? round(this.planned / this.plannedSeconds) : 0,
      acceptedPerSecond: round(this.accepted / elapsedSeconds),
      latencyMs: { fromPlanned: summarize(this.#fromPlanned), fromSent: summarize(this.#fromSent) },
      scheduleLagMs: summarize(this.#lag),
      maxInFlight: this.maxInFlight,
      errorSamples: Object.fromEntries(this.errorSamples),
      hdr: { fromPlanned: encodeHistogram(this.#fromPlanned), fromSent: encodeHistogram(this.#fromSent) },
    };
  }

  destroy(): void {
    this.#fromPlanned.destroy();
    this.#fromSent.destroy();
    this.#lag.destroy();
  }
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
