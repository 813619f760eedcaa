import { faultSettingsSchema, type FaultPatch, type FaultSettings, type IdempotencyMode } from './config';
import { intBetween, mulberry32, type Random } from '../shared/random';

export type FailureStatus = 500 | 502 | 503;

/** What happens to one POST /transactions, decided when it arrives. */
export type PostPlan =
  | { latencyMs: number; outcome: 'store' }
  /** Answer 5xx and store nothing. */
  | { latencyMs: number; outcome: 'preWriteFailure'; status: FailureStatus }
  /** Store, then answer 5xx. */
  | { latencyMs: number; outcome: 'postWriteError'; status: FailureStatus }
  /** Store, then hold the response for holdMs and answer 504. */
  | { latencyMs: number; outcome: 'postWriteHang'; holdMs: number };

/** What happens to one GET /transactions[/:id]. */
export type GetPlan =
  { latencyMs: number; outcome: 'answer' } | { latencyMs: number; outcome: 'failure'; status: FailureStatus };

const FAILURE_STATUSES: readonly FailureStatus[] = [500, 502, 503];
// The mock keeps the word a service gives by documenting 503 as "not processed" (txflow's default
// POSTING_NOT_PROCESSED_STATUSES): a 503 never follows a write.
const WROTE_STATUSES: readonly FailureStatus[] = [500, 502];
// GETs draw from their own sequence, so how many GETs a client makes does not shift the POST faults.
const GET_STREAM_SALT = 0x9e3779b9;
// Late writes too: adding the knob must not change which POSTs an existing seed fails.
const LATE_STREAM_SALT = 0x85ebca6b;

/**
 * Decides per request, from the knobs and a seeded PRNG, what the mock does. Each plan takes a fixed
 * number of draws whatever the knobs say, so with one seed the n-th POST (or GET) always sees the same
 * numbers: raising a rate turns more of the same requests into failures instead of reshuffling them.
 */
export class Faults {
  #settings: FaultSettings;
  #postRandom: Random;
  #getRandom: Random;
  #lateRandom: Random;

  constructor(settings: FaultSettings) {
    this.#settings = faultSettingsSchema.parse(settings);
    this.#postRandom = mulberry32(this.#settings.seed);
    this.#getRandom = mulberry32(this.#settings.seed ^ GET_STREAM_SALT);
    this.#lateRandom = mulberry32(this.#settings.seed ^ LATE_STREAM_SALT);
  }

  /** Whether every endpoint but /health and /admin answers 503. */
  get outage(): boolean {
    return this.#settings.outage;
  }

  /** Whether a POST's Idempotency-Key is honoured. */
  get idempotency(): IdempotencyMode {
    return this.#settings.idempotency;
  }

  /** A copy of the current knobs. */
  settings(): FaultSettings {
    const s = this.#settings;
    return { ...s, getLatencyMs: { ...s.getLatencyMs }, postLatencyMs: { ...s.postLatencyMs } };
  }

  /** Applies the knobs given (validated again); a seed, even the same one, restarts every sequence. */
  update(patch: FaultPatch): FaultSettings {
    const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const next = faultSettingsSchema.parse({ ...this.#settings, ...given });
    this.#settings = next;
    if (patch.seed !== undefined) {
      this.#postRandom = mulberry32(next.seed);
      this.#getRandom = mulberry32(next.seed ^ GET_STREAM_SALT);
      this.#lateRandom = mulberry32(next.seed ^ LATE_STREAM_SALT);
    }
    return this.settings();
  }

  /** Five draws: latency, pre-write, post-write, status, hang-or-error. */
  planPost(): PostPlan {
    const s = this.#settings;
    const random = this.#postRandom;
    const latencyMs = intBetween(random, s.postLatencyMs.min, s.postLatencyMs.max);
    const preWrite = random() < s.preWriteFailureRate;
    const postWrite = random() < s.postWriteFailureRate;
    const statusDraw = random();
    const hangDraw = random();
    if (preWrite) return { latencyMs, outcome: 'preWriteFailure', status: pickStatus(statusDraw) };
    if (!postWrite) return { latencyMs, outcome: 'store' };
    const hang = s.postWriteMode === 'hang' || (s.postWriteMode === 'mixed' && hangDraw < 0.5);
    return hang
      ? { latencyMs, outcome: 'postWriteHang', holdMs: s.postWriteHangMs }
      : { latencyMs, outcome: 'postWriteError', status: pickStatus(statusDraw, WROTE_STATUSES) };
  }

  /**
   * One draw, for every POST that got a plan: how long its write waits before the row is written, 0 for at
   * once. Only a POST whose plan stores anything writes late.
   */
  planLateWrite(): number {
    const late = this.#lateRandom() < this.#settings.lateWriteRate;
    return late ? this.#settings.lateWriteMs : 0;
  }

  /** Three draws: latency, failure, status. */
  planGet(): GetPlan {
    const s = this.#settings;
    const random = this.#getRandom;
    const latencyMs = intBetween(random, s.getLatencyMs.min, s.getLatencyMs.max);
    const failure = random() < s.getFailureRate;
    const status = pickStatus(random());
    return failure ? { latencyMs, outcome: 'failure', status } : { latencyMs, outcome: 'answer' };
  }
}

function pickStatus(draw: number, statuses = FAILURE_STATUSES): FailureStatus {
  return statuses[Math.floor(draw * statuses.length)] ?? 500;
}
