import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RouteIndex } from '../http/route-index';
import type { RetryResult, SubmitResult } from '../transactions/transactions-service';

/** `batch`: the items of POST /api/transactions/batch, each counted as one submission. */
export type Dialect = 'api' | 'v1' | 'batch';
/** `unknown` and `skipped` are batch items only (a single submission answers 503 instead). */
export type SubmissionOutcome = 'accepted' | 'duplicate' | 'conflict' | 'rejected' | 'unknown' | 'skipped';
/** What a wait waited for: a submission's result (`Prefer: wait`) or a read's status change (`?wait`). */
export type WaitKind = 'result' | 'change';
/**
 * How a wait ended: the run ended (final) or the status changed, N seconds passed, the client left, an error,
 * or it never began because API_MAX_OPEN_WAITS were open (`over_capacity`: answered at once).
 */
export type WaitOutcome = 'final' | 'changed' | 'timeout' | 'client_gone' | 'error' | 'over_capacity';

const WAIT_OUTCOMES: Readonly<Record<WaitKind, readonly WaitOutcome[]>> = {
  result: ['final', 'timeout', 'client_gone', 'error', 'over_capacity'],
  change: ['changed', 'timeout', 'client_gone', 'error', 'over_capacity'],
};

const OUTCOMES: readonly SubmissionOutcome[] = ['accepted', 'duplicate', 'conflict', 'rejected'];
const DIALECT_OUTCOMES: Readonly<Record<Dialect, readonly SubmissionOutcome[]>> = {
  api: OUTCOMES,
  v1: OUTCOMES,
  batch: [...OUTCOMES, 'unknown', 'skipped'],
};

/** The route label of requests that reached no route (404s): one series, however many URLs are tried. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Where each dialect submits; a validation refusal there (400, 413, 415) counts as `rejected`. */
const SUBMISSION_ROUTES: Readonly<Record<string, Dialect>> = {
  'POST /api/transactions': 'api',
  'POST /v1/webhooks/transactions': 'v1',
};
const REJECTION_STATUSES = new Set([400, 413, 415]);
/** A batch refused as a whole (400, 413, 415) counts one rejected batch; its items are not counted. */
const BATCH_ROUTE = 'POST /api/transactions/batch';
/** Items per answered batch, up to API_BATCH_MAX_ITEMS' ceiling. */
const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

// From a 5 ms duplicate answer up to the RPC timeout (3 s by default) and beyond.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Adds Node's process metrics (CPU, memory, event-loop lag, GC, handles) to `registry`: main.ts does, tests need not. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

/**
 * The API's Prometheus metrics, in a registry of its own (never prom-client's global one, so several apps in one
 * process do not clash): requests and latency by method, route pattern and status, submissions by dialect and
 * outcome, and the workflow runs started, by whether they were started eagerly.
 */
export class ApiMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;
  private readonly submissions: Counter<'dialect' | 'outcome'>;
  private readonly starts: Counter<'eager'>;
  private readonly batches: Counter<'result'>;
  private readonly batchSizes: Histogram;
  private readonly waits: Counter<'kind' | 'outcome'>;
  private readonly waitsInFlight: Gauge<'kind'>;
  // Responses that waited for the client (Prefer: wait, ?wait): their time is the client's choice, not latency.
  private readonly untimed = new WeakSet<object>();

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    const labelNames = ['method', 'route', 'status'] as const;
    this.requests = new Counter({
      name: 'txflow_api_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames,
      registers,
    });
    this.latency = new Histogram({
      name: 'txflow_api_http_request_duration_seconds',
      help: 'Time from receiving a request to the end of its answer, by method, route pattern and status',
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.submissions = new Counter({
      name: 'txflow_api_submissions_total',
      help: 'Submissions by dialect and outcome: accepted (new), duplicate (same ID and body), conflict (409), rejected (invalid, 400/413/415); batch items also unknown (start outcome unknown) and skipped (not tried)',
      labelNames: ['dialect', 'outcome'],
      registers,
    });
    this.starts = new Counter({
      name: 'txflow_api_workflow_starts_total',
      help: 'Workflow runs started (new submissions and retries), by eager: true when the server handed the first workflow task straight to the worker in this process (all-in-one with eager start)',
      labelNames: ['eager'],
      registers,
    });
    this.batches = new Counter({
      name: 'txflow_api_batches_total',
      help: 'POST /api/transactions/batch requests by result: answered (per-item results), rejected (refused whole: 400/413/415)',
      labelNames: ['result'],
      registers,
    });
    this.batchSizes = new Histogram({
      name: 'txflow_api_batch_items',
      help: 'Items per answered batch',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.waits = new Counter({
      name: 'txflow_api_waits_total',
      help: 'Waits ended, by kind (result: POST with Prefer: wait; change: GET with ?wait) and outcome: final (the run ended), changed (the status changed), timeout (N seconds passed), client_gone (the client hung up), error, over_capacity (API_MAX_OPEN_WAITS open: answered at once)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.waitsInFlight = new Gauge({
      name: 'txflow_api_waits_in_flight',
      help: 'Waits in progress (each holds one long-poll call to Temporal), by kind',
      labelNames: ['kind'],
      registers,
    });
    // Every series exists from the start, so rate() and alerts see a 0 rather than nothing.
    for (const [dialect, outcomes] of Object.entries(DIALECT_OUTCOMES))
      for (const outcome of outcomes) this.submissions.inc({ dialect, outcome }, 0);
    for (const result of ['answered', 'rejected']) this.batches.inc({ result }, 0);
    for (const [kind, outcomes] of Object.entries(WAIT_OUTCOMES)) {
      this.waitsInFlight.set({ kind }, 0);
      for (const outcome of outcomes) this.waits.inc({ kind, outcome }, 0);
    }
    for (const eager of ['true', 'false']) this.starts.inc({ eager }, 0);
  }

  countSubmission(dialect: Dialect, outcome: SubmissionOutcome): void {
    this.submissions.inc({ dialect, outcome });
  }

  countStart(eagerlyStarted: boolean): void {
    this.starts.inc({ eager: String(eagerlyStarted) });
  }

  /** What a submission in `dialect` turned out to be, and the run it started if any. */
  countSubmitted(dialect: Dialect, result: SubmitResult): void {
    this.countSubmission(dialect, result.kind);
    if (result.kind === 'accepted') this.countStart(result.eagerlyStarted);
  }

  /** A batch answered item by item, with `items` items. */
  countBatch(items: number): void {
    this.batches.inc({ result: 'answered' });
    this.batchSizes.observe(items);
  }

  /** The run a retry started, if it did. */
  countRetried(result: RetryResult): void {
    if (result.kind === 'started') this.countStart(result.eagerlyStarted);
  }

  /** `res` waits for the client: counted among the requests, kept out of the latency histogram. */
  untimedResponse(res: object): void {
    this.untimed.add(res);
  }

  /** Counts a wait in flight until the returned function is called with its outcome (once; later calls do nothing). */
  waitStarted(kind: WaitKind): (outcome: WaitOutcome) => void {
    this.waitsInFlight.inc({ kind });
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      this.waitsInFlight.dec({ kind });
      this.waits.inc({ kind, outcome });
    };
  }

  /** A wait not begun: API_MAX_OPEN_WAITS were open, so the request was answered at once. */
  waitRefused(kind: WaitKind): void {
    this.waits.inc({ kind, outcome: 'over_capacity' });
  }

  /** Waits in progress now, of both kinds (tests check it returns to 0). */
  async waitsInProgress(): Promise<number> {
    const { values } = await this.waitsInFlight.get();
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  /** Runs started so far, and how many of them eagerly (for a process's closing log line). */
  async startCounts(): Promise<{ started: number; eagerlyStarted: number }> {
    const { values } = await this.starts.get();
    const count = (eager: string) => values.find((v) => v.labels.eager === eager)?.value ?? 0;
    return { started: count('true') + count('false'), eagerlyStarted: count('true') };
  }

  /** Times every request, including those refused before routing (401, 413, 429…); mount it first. */
  middleware(routes: RouteIndex): RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const route = routes.patternOf(req) ?? UNMATCHED_ROUTE;
        const labels = { method: req.method, route, status: String(res.statusCode) };
        this.requests.inc(labels);
        if (!this.untimed.has(res))
          this.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
        const dialect = SUBMISSION_ROUTES[`${req.method} ${route}`];
        if (dialect && REJECTION_STATUSES.has(res.statusCode)) this.countSubmission(dialect, 'rejected');
        if (`${req.method} ${route}` === BATCH_ROUTE && REJECTION_STATUSES.has(res.statusCode)) {
          this.batches.inc({ result: 'rejected' });
        }
      });
      next();
    };
  }
}
