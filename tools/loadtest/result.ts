import type { FaultSettings } from '../mock/config';
import type { CompletionResult } from './completion';
import type { KneeCriteria, StepMeasure, StepVerdict } from './knee';
import type { LatencySummary } from '../shared/histogram';
import type { Bin } from './metrics';
import type { LoadTestOptions, PhaseKind } from './options';
import type { VerificationResult } from './verify';

export const RESULT_SCHEMA = 'txflow-loadtest/1';

/** Submissions of one phase (or stress step): counted by planned send time, whenever they were answered. */
export interface PhaseResult {
  /** warmup, performance, stress, or one stress step: "stress@40". */
  name: string;
  kind: PhaseKind;
  /** Planned new transactions per second. */
  rate: number;
  /** When the phase started, in seconds since the run started. */
  startSecond: number;
  /** Planned length of the phase. */
  plannedSeconds: number;
  /** From the phase's start to its last answer. */
  elapsedSeconds: number;
  /** New transaction IDs. */
  transactions: number;
  submissions: {
    planned: number;
    sent: number;
    answered: number;
    /** 2xx answers (202 new, 200 a repeat on /api; 202 for both on /v1). */
    accepted: number;
    /** Duplicates among the sent ones. */
    duplicates: number;
  };
  /** Every answer by status code, or network:<code>. */
  answers: Record<string, number>;
  /** The non-2xx ones. */
  errors: Record<string, number>;
  /** Non-2xx answers among answered submissions. */
  errorRate: number;
  plannedPerSecond: number;
  /** 2xx answers per elapsed second. */
  acceptedPerSecond: number;
  latencyMs: {
    /** From the planned send time: what a client arriving at that time saw (no coordinated omission). */
    fromPlanned: LatencySummary;
    /** From the moment the request was handed to the HTTP client. */
    fromSent: LatencySummary;
  };
  /** How late sends left against their planned time (the load generator's own delay). */
  scheduleLagMs: LatencySummary;
  maxInFlight: number;
  /** The first answer body per error kind. */
  errorSamples: Record<string, string>;
  /** The two latency histograms, HdrHistogram compressed base64 (µs). */
  hdr: { fromPlanned: string; fromSent: string };
}

export interface StressStepResult extends PhaseResult {
  /** False for a step cut short because the one before it did not keep up. */
  judged: boolean;
  /** Measured a grace period after the step's window ended (the ramp decision). */
  measure: StepMeasure;
  verdict: StepVerdict;
}

export interface StressResult {
  criteria: KneeCriteria;
  /** How long after its window a step was judged (its late answers count). */
  graceMs: number;
  steps: StressStepResult[];
  /** Index into steps of the knee, null when even the first step did not keep up. */
  kneeIndex: number | null;
  knee: { rate: number; acceptedPerSecond: number; p99Ms: number } | null;
  /** A step did not keep up; false: every step kept up, so the real knee lies above the last one. */
  saturated: boolean;
  stopReason: string;
}

export interface TimelinePoint {
  /** Seconds since the run started. */
  second: number;
  phase: string;
  /** Submissions planned to leave in this second, and sent in it. */
  planned: number;
  sent: number;
  /** Answers received in this second. */
  accepted: number;
  errors: number;
  /** Submit latency from the planned time, of the submissions planned in this second. */
  latencyMs: { p50: number; p90: number; p99: number; max: number } | null;
  /** Submissions awaiting an answer (sampled once a second). */
  inFlight: number;
  /** Transactions that finished in this second, by the API's completedAt. */
  finished: number;
  /** Transactions acknowledged but not finished at the end of this second. */
  pendingCompletion: number;
}

export interface Check {
  name: string;
  /** null: not checked (no mock). */
  ok: boolean | null;
  detail: string;
}

export interface LoadTestResult {
  schema: typeof RESULT_SCHEMA;
  runId: string;
  /** Every transaction ID of the run starts with it. */
  idPrefix: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  /** Stopped early (Ctrl-C): phases after it did not run. */
  interrupted: boolean;
  target: { api: string; mock: string | null };
  options: LoadTestOptions;
  environment: { node: string; platform: string; cpus: number };
  /** GET /api/health before and after the run (queue depth, backlog, error rate), as the API answered. */
  apiHealth: { before: unknown; after: unknown };
  faults: {
    /** The knobs set for the run, their previous values, and whether those were put back. */
    applied: Partial<FaultSettings> | null;
    previous: Partial<FaultSettings> | null;
    restored: boolean | null;
    /** The mock's settings during the run. */
    during: FaultSettings | null;
  };
  /** warm-up, performance and the whole stress phase, as run. */
  phases: PhaseResult[];
  stress: StressResult | null;
  completion: CompletionResult & { deadlineSeconds: number; drainSeconds: number; pollRate: number };
  /** Null without a mock, or when the mock could not be read afterwards (then verificationError says why). */
  verification: VerificationResult | null;
  verificationError: string | null;
  timeline: TimelinePoint[];
  /** End-to-end times (planned send to completedAt), log-spaced bins. */
  endToEndBins: Bin[];
  warnings: string[];
  checks: Check[];
  /** Every check that ran passed. */
  passed: boolean;
}
