import { cpus } from 'node:os';
import { Agent, request, type Dispatcher } from 'undici';
import type { FaultSettings } from '../mock/config';
import { mulberry32 } from '../mock/random';
import type { MockStats } from '../mock/store';
import { buildChecks, collectWarnings } from './checks';
import { CompletionTracker, LIST_FROM_MARGIN_MS } from './completion';
import { findKnee, judgeStep, stressRates, type StepMeasure, type StepVerdict } from './knee';
import { logBins } from './metrics';
import { ms } from './summary';
import { faultPatch, MockAdmin, restorePatch } from './mock-admin';
import type { LoadTestOptions, PhaseKind } from './options';
import { PhaseRecorder } from './phase-recorder';
import { silentProgress, type Progress } from './progress';
import { RESULT_SCHEMA, type LoadTestResult, type StressResult, type StressStepResult } from './result';
import { arrivalsFor, realClock, runOpenLoop, type Clock } from './schedule';
import { isAccepted, submit } from './submitter';
import { Timeline } from './timeline';
import { verifyDownstream, type VerificationResult } from './verify';
import { buildWorkload, runIdPrefix, type Submission } from './workload';

/** The target could not be load-tested (unreachable, not txflow, mock missing): nothing was sent. */
export class LoadTestAbort extends Error {
  override name = 'LoadTestAbort';
}

export interface RunHooks {
  progress?: Progress;
  /** Aborting stops sending; the run then waits for what was accepted, verifies and reports. */
  signal?: AbortSignal;
  /** Aborting ends the wait for accepted transactions to finish (they count as not finished). */
  stopWaiting?: AbortSignal;
  clock?: Clock;
}

/**
 * Runs the load test against a running txflow (and its mock downstream, when options.mock is set):
 * warm-up, performance and stress phases in open loop, then waits until every accepted transaction finished
 * or the deadline passed, and checks the downstream. Writes nothing: see report-json and report-html.
 */
export async function runLoadTest(options: LoadTestOptions, hooks: RunHooks = {}): Promise<LoadTestResult> {
  const submitAgent = new Agent({
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });
  // Polls and admin calls get their own pool: they never queue behind submissions.
  const controlAgent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  try {
    return await new Run(options, hooks, submitAgent, controlAgent).execute();
  } finally {
    await Promise.all([submitAgent.close(), controlAgent.close()]);
  }
}

class Run {
  readonly #clock: Clock;
  readonly #progress: Progress;
  readonly #random;
  readonly #mock: MockAdmin | null;
  readonly #tracker: CompletionTracker;
  readonly #runStart: number;
  readonly #timeline: Timeline;
  readonly #startedAt = new Date();
  readonly #runId: string;
  readonly #idPrefix: string;
  /** What the downstream must hold, per transaction sent. */
  readonly #expected = new Map<string, { amount: string; currency: string }>();
  /** Planned time of each transaction's first submission. */
  readonly #firstPlanned = new Map<string, number>();
  readonly #acknowledged = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #recorders: PhaseRecorder[] = [];
  #current: { recorder: PhaseRecorder; label: string } | undefined;
  #nextN = 0;
  #interrupted = false;

  constructor(
    readonly options: LoadTestOptions,
    readonly hooks: RunHooks,
    readonly submitAgent: Dispatcher,
    readonly controlAgent: Dispatcher,
  ) {
    this.#clock = hooks.clock ?? realClock;
    this.#progress = hooks.progress ?? silentProgress;
    this.#random = mulberry32(options.seed);
    // The suffix is not from the seed: two runs with one seed must still not share IDs.
    const ids = runIdPrefix(this.#startedAt, Math.random);
    this.#runId = ids.runId;
    this.#idPrefix = ids.idPrefix;
    this.#mock =
      options.mock === null ? null : new MockAdmin(options.mock, controlAgent, options.requestTimeoutMs);
    this.#runStart = this.#clock.now();
    this.#timeline = new Timeline(this.#runStart);
    this.#tracker = new CompletionTracker({
      api: options.api,
      dispatcher: controlAgent,
      rate: options.pollRate,
      sweepIntervalMs: options.sweepSeconds * 1000,
      sweepPollRate: options.sweepPollRate,
      // The API's clock may be behind this one: list from well before the run started.
      listFrom: new Date(this.#startedAt.getTime() - LIST_FROM_MARGIN_MS),
      timeoutMs: options.requestTimeoutMs,
      clock: this.#clock,
    });
  }

  get #aborted(): boolean {
    return this.hooks.signal?.aborted === true;
  }

  async execute(): Promise<LoadTestResult> {
    const o = this.options;
    const healthBefore = await this.#preflight();
    const mock = this.#mock;
    if (mock !== null && o.cleanup)
      this.#progress.log(`cleanup: deleted ${await mock.cleanup()} downstream rows`);
    const statsBefore = mock === null ? null : await mock.stats();

    const patch = faultPatch(o.faults);
    const faults: LoadTestResult['faults'] = { applied: null, previous: null, restored: null, during: null };
    if (mock !== null && Object.keys(patch).length > 0) {
      faults.previous = restorePatch(await mock.faults(), patch);
      faults.during = await mock.setFaults(patch);
      faults.applied = patch;
    } else if (mock !== null) {
      faults.during = await mock.faults();
    }

    const ticker = setInterval(() => this.#tick(), 1_000);
    let stress: StressResult | null = null;
    const phases: PhaseRecorder[] = [];
    let drainSeconds = 0;
    try {
      this.#tracker.start();
      if (o.phases.includes('warmup') && o.warmupSeconds > 0) {
        phases.push(await this.#fixedPhase('warmup', 'warmup', o.warmupRate, { seconds: o.warmupSeconds }));
      }
      if (o.phases.includes('performance') && !this.#aborted) {
        const size = o.transactions !== null ? { count: o.transactions } : { seconds: o.durationSeconds };
        phases.push(await this.#fixedPhase('performance', 'performance', o.rate, size));
      }
      if (o.phases.includes('stress') && !this.#aborted) {
        const run = await this.#stressPhase();
        phases.push(run.recorder);
        stress = run.result;
      }
      drainSeconds = await this.#drain();
    } finally {
      clearInterval(ticker);
      await this.#tracker.stop({ explainFailures: !this.#aborted });
      this.#progress.stop();
      if (mock !== null && faults.previous !== null) {
        try {
          await mock.setFaults(faults.previous as Partial<FaultSettings>);
          faults.restored = true;
        } catch {
          faults.restored = false;
        }
      }
    }
    this.#interrupted ||= this.#aborted;

    let verification: VerificationResult | null = null;
    let verificationError: string | null = null;
    if (mock !== null && statsBefore !== null) {
      try {
        verification = await this.#verify(mock, statsBefore);
      } catch (err) {
        verificationError = err instanceof Error ? err.message : String(err);
      }
    }
    const healthAfter = await this.#health().catch(() => null);
    const completion = {
      ...this.#tracker.result(),
      deadlineSeconds: o.deadlineSeconds,
      drainSeconds: Math.round(drainSeconds * 100) / 100,
      pollRate: o.pollRate,
    };
    const phaseResults = phases.map((p) => p.result());
    for (const t of this.#tracker.finishTimes()) this.#timeline.onFinished(t);
    const finishedAt = new Date();
    const partial = {
      schema: RESULT_SCHEMA,
      runId: this.#runId,
      idPrefix: this.#idPrefix,
      startedAt: this.#startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: Math.round((finishedAt.getTime() - this.#startedAt.getTime()) / 10) / 100,
      interrupted: this.#interrupted,
      target: { api: o.api, mock: o.mock },
      options: o,
      environment: {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus().length,
      },
      apiHealth: { before: healthBefore, after: healthAfter },
      faults,
      phases: phaseResults,
      stress,
      completion,
      verification,
      verificationError,
      timeline: this.#timeline.points(),
      endToEndBins: logBins(this.#tracker.endToEndValues()),
    } satisfies Omit<LoadTestResult, 'checks' | 'passed' | 'warnings'>;
    const checks = buildChecks(partial);
    const result: LoadTestResult = {
      ...partial,
      warnings: collectWarnings(partial),
      checks,
      passed: checks.every((c) => c.ok !== false),
    };
    for (const r of this.#recorders) r.destroy();
    this.#timeline.destroy();
    return result;
  }

  /** The API answers /api/health with 200 (Temporal reachable), the mock its /admin/stats. */
  async #preflight(): Promise<unknown> {
    const o = this.options;
    let health: unknown;
    try {
      health = await this.#health();
    } catch (err) {
      throw new LoadTestAbort(`txflow API at ${o.api}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.#mock !== null) {
      try {
        await this.#mock.stats();
      } catch (err) {
        throw new LoadTestAbort(
          `mock posting service at ${o.mock}: ${err instanceof Error ? err.message : String(err)} ` +
            '(pass --mock <url> of the downstream txflow posts to, or --mock none to run without downstream checks)',
        );
      }
    }
    return health;
  }

  async #health(): Promise<unknown> {
    const res = await request(`${this.options.api}/api/health`, {
      dispatcher: this.controlAgent,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const body = (await res.body.json().catch(() => null)) as unknown;
    if (res.statusCode !== 200) {
      throw new Error(`GET /api/health answered ${res.statusCode} ${JSON.stringify(body)?.slice(0, 300)}`);
    }
    return body;
  }

  #newRecorder(name: string, kind: PhaseKind, rate: number, start: number, seconds: number): PhaseRecorder {
    const r = new PhaseRecorder(name, kind, rate, start, this.#runStart, seconds);
    this.#recorders.push(r);
    return r;
  }

  /** Schedules one window of load into `recorders` (the first one shows in the progress). */
  #schedule(label: string, kind: PhaseKind, rate: number, size: { seconds: number } | { count: number }) {
    const o = this.options;
    const { offsets, windowMs } = arrivalsFor(o.arrival, rate, size, this.#random);
    const { items, transactions } = buildWorkload({
      arrivals: offsets,
      windowMs,
      phase: label,
      idPrefix: this.#idPrefix,
      firstN: this.#nextN,
      duplicates: o.duplicates,
      webhookShare: o.webhookShare,
      random: this.#random,
    });
    this.#nextN += transactions.length;
    for (const tx of transactions) this.#expected.set(tx.id, { amount: tx.amount, currency: tx.currency });
    return { items, transactions: transactions.length, windowMs, kind };
  }

  /** Starts a submission at its planned time; records it in each recorder and the timeline. */
  #send(recorders: PhaseRecorder[], sub: Submission, planned: number, actual: number): void {
    const id = sub.tx.id;
    if (!this.#firstPlanned.has(id)) this.#firstPlanned.set(id, planned);
    const flights = recorders.map((r) => r.onSent(planned, actual, sub.kind !== 'original'));
    this.#timeline.onSent(sub.phase, planned, actual);
    const p = submit(this.options.api, sub.tx, this.submitAgent, this.options.requestTimeoutMs).then(
      (answer) => {
        const at = this.#clock.now();
        recorders.forEach((r, i) => r.onAnswer(flights[i] as (typeof flights)[number], answer, at));
        const ok = isAccepted(answer);
        this.#timeline.onAnswer(planned, at, ok);
        if (ok) {
          if (!this.#acknowledged.has(id)) this.#timeline.onAcknowledged(at);
          this.#acknowledged.add(id);
          this.#tracker.track(id, this.#firstPlanned.get(id) ?? planned, true);
        }
      },
    );
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Warm-up or performance: one rate for a duration (or a count), then wait for the answers. */
  async #fixedPhase(
    name: string,
    kind: PhaseKind,
    rate: number,
    size: { seconds: number } | { count: number },
  ): Promise<PhaseRecorder> {
    const plan = this.#schedule(name, kind, rate, size);
    const start = this.#clock.now();
    const recorder = this.#newRecorder(name, kind, rate, start, plan.windowMs / 1000);
    recorder.transactions = plan.transactions;
    recorder.planned = plan.items.length;
    this.#current = { recorder, label: name };
    await runOpenLoop(plan.items, (sub, planned, actual) => this.#send([recorder], sub, planned, actual), {
      start,
      clock: this.#clock,
      signal: this.hooks.signal,
    });
    await this.#settle();
    const r = recorder.result();
    this.#progress.log(
      `${name}: ${r.submissions.sent} sent, ${r.submissions.accepted} accepted (${r.acceptedPerSecond}/s), ` +
        `${r.submissions.answered - r.submissions.accepted} errors, p99 ${ms(r.latencyMs.fromPlanned.p99)} ms`,
    );
    return recorder;
  }

  /**
   * Steps of rising rate, back to back on one time grid: each step starts when the previous one was planned
   * to end, answered or not. A step is judged a grace period after its window (the p99 threshold, at most a
   * step long), while the next step already runs, so its own late answers count; when it did not keep up, the
   * running step is cut short and the ramp ends.
   */
  async #stressPhase(): Promise<{ recorder: PhaseRecorder; result: StressResult }> {
    const o = this.options;
    const criteria = { minAcceptRatio: o.kneeAcceptRatio, maxP99Ms: o.kneeP99Ms };
    const graceMs = Math.min(o.kneeP99Ms, o.stressStepSeconds * 1000);
    const rates = stressRates(o.stressStart, o.stressStep, o.stressMax);
    const whole = this.#newRecorder('stress', 'stress', o.stressStart, this.#clock.now(), 0);
    const steps: StressStep[] = [];
    let stopReason = `reached --stress-max ${o.stressMax}/s`;

    const launch = (rate: number, start: number): StressStep => {
      const name = `stress@${rate}`;
      const plan = this.#schedule(name, 'stress', rate, { seconds: o.stressStepSeconds });
      const recorder = this.#newRecorder(name, 'stress', rate, start, o.stressStepSeconds);
      recorder.transactions = plan.transactions;
      recorder.planned = plan.items.length;
      whole.transactions += plan.transactions;
      whole.planned += plan.items.length;
      this.#current = { recorder, label: name };
      const step: StressStep = {
        rate,
        name,
        recorder,
        planned: plan.items.length,
        start,
        end: start + plan.windowMs,
        loop: Promise.resolve(),
        stop: new AbortController(),
      };
      const onAbort = () => cut(step, 'interrupted');
      this.hooks.signal?.addEventListener('abort', onAbort, { once: true });
      step.loop = runOpenLoop(
        plan.items,
        (sub, planned, actual) => this.#send([recorder, whole], sub, planned, actual),
        { start, clock: this.#clock, signal: step.stop.signal },
      ).finally(() => this.hooks.signal?.removeEventListener('abort', onAbort));
      steps.push(step);
      return step;
    };
    const cut = (step: StressStep, reason: string) => {
      if (step.cut !== undefined) return;
      step.cut = { at: this.#clock.now(), reason };
      step.stop.abort();
    };
    const judge = (step: StressStep): StepVerdict => {
      const measure = {
        rate: step.rate,
        plannedPerSecond: step.planned / o.stressStepSeconds,
        acceptedPerSecond: step.recorder.accepted / o.stressStepSeconds,
        p99Ms: step.recorder.p99SoFar(this.#clock.now()),
      };
      const verdict = judgeStep(measure, criteria);
      step.judged = { measure, verdict };
      this.#progress.log(
        `${step.name}: ${verdict.keptUp ? 'kept up' : `did not keep up: ${verdict.reasons.join('; ')}`} ` +
          `(accepted ${measure.acceptedPerSecond.toFixed(1)}/s of ${measure.plannedPerSecond.toFixed(1)}/s ` +
          `planned, p99 ${ms(measure.p99Ms)} ms)`,
      );
      return verdict;
    };

    let start = this.#clock.now();
    let previous: StressStep | undefined;
    for (let i = 0; ; i++) {
      const rate = rates[i];
      const current = rate !== undefined && !this.#aborted ? launch(rate, start) : undefined;
      if (previous !== undefined) {
        await this.#sleepUntil(previous.end + graceMs);
        const verdict = judge(previous);
        if (!verdict.keptUp) {
          stopReason = `${previous.name} did not keep up: ${verdict.reasons.join('; ')}`;
          if (current !== undefined) cut(current, 'cut short: the step before did not keep up');
        }
      }
      if (current === undefined) {
        if (this.#aborted) stopReason = 'interrupted';
        break;
      }
      await current.loop;
      if (current.stop.signal.aborted) {
        if (this.#aborted) stopReason = 'interrupted';
        break;
      }
      await this.#sleepUntil(current.end);
      previous = current;
      start = current.end;
    }
    await this.#settle();
    for (const step of steps) {
      if (step.cut === undefined) continue;
      // Only what was sent before the cut counts as planned.
      whole.planned -= step.recorder.planned - step.recorder.sent;
      step.recorder.planned = step.recorder.sent;
      step.recorder.plannedSeconds = (step.cut.at - step.start) / 1000;
    }
    const [first, last] = [steps[0], steps[steps.length - 1]];
    whole.plannedSeconds =
      first === undefined || last === undefined ? 0 : ((last.cut?.at ?? last.end) - first.start) / 1000;
    const stepResults: StressStepResult[] = steps.map((s) => ({
      ...s.recorder.result(),
      judged: s.judged !== undefined,
      measure: roundMeasure(
        s.judged?.measure ?? {
          rate: s.rate,
          plannedPerSecond: s.recorder.planned / s.recorder.plannedSeconds,
          acceptedPerSecond: s.recorder.accepted / s.recorder.plannedSeconds,
          p99Ms: s.recorder.p99SoFar(this.#clock.now()),
        },
      ),
      verdict:
        s.judged === undefined
          ? { keptUp: false, acceptRatio: 0, reasons: [s.cut?.reason ?? 'not judged'] }
          : { ...s.judged.verdict, acceptRatio: Math.round(s.judged.verdict.acceptRatio * 1000) / 1000 },
    }));
    const judged = steps.flatMap((s) => (s.judged === undefined ? [] : [s.judged]));
    const kneeIndex = findKnee(judged.map((j) => j.verdict));
    const kneeStep = kneeIndex === null ? undefined : judged[kneeIndex]?.measure;
    return {
      recorder: whole,
      result: {
        criteria,
        graceMs,
        steps: stepResults,
        kneeIndex,
        knee:
          kneeStep === undefined
            ? null
            : {
                rate: kneeStep.rate,
                acceptedPerSecond: Math.round(kneeStep.acceptedPerSecond * 100) / 100,
                p99Ms: Math.round(kneeStep.p99Ms * 100) / 100,
              },
        saturated: judged.some((j) => !j.verdict.keptUp),
        stopReason,
      },
    };
  }

  async #sleepUntil(t: number): Promise<void> {
    const wait = t - this.#clock.now();
    if (wait > 0) await this.#clock.sleep(wait);
  }

  /** After the last send: every answer, then every accepted transaction finished, or the deadline. */
  async #drain(): Promise<number> {
    const o = this.options;
    await this.#settle();
    // Submissions that all failed (timeouts, 5xx) may still have started the transaction: look them up.
    for (const [id, planned] of this.#firstPlanned) {
      if (!this.#acknowledged.has(id)) this.#tracker.track(id, planned, false);
    }
    this.#tracker.setRate(o.drainPollRate);
    this.#tracker.setSweepInterval(o.drainSweepSeconds * 1000);
    const start = this.#clock.now();
    this.#current = undefined;
    await this.#tracker.waitAll(start + o.deadlineSeconds * 1000, this.hooks.stopWaiting);
    this.#tick();
    return (this.#clock.now() - start) / 1000;
  }

  async #verify(mock: MockAdmin, statsBefore: MockStats): Promise<VerificationResult> {
    const [rows, statsAfter] = [await mock.rows(), await mock.stats()];
    return verifyDownstream({
      idPrefix: this.#idPrefix,
      expected: this.#expected,
      statuses: this.#tracker.statuses(),
      rows,
      statsBefore,
      statsAfter,
    });
  }

  #drainStart: number | undefined;

  /** Once a second: the timeline's gauges and the progress display. */
  #tick(): void {
    const now = this.#clock.now();
    const tracker = this.#tracker;
    const current = this.#current;
    this.#timeline.sample(now, current?.label ?? 'drain', this.#inFlight.size);
    const common = {
      inFlight: this.#inFlight.size,
      tracked: tracker.pending + tracker.completedOrFailed,
      finished: tracker.completedOrFailed,
      pending: tracker.pending,
    };
    if (current === undefined) {
      this.#drainStart ??= now;
      this.#progress.update({
        ...common,
        phase: 'drain',
        elapsedSeconds: (now - this.#drainStart) / 1000,
        totalSeconds: this.options.deadlineSeconds,
        sent: 0,
        planned: 0,
        accepted: 0,
        errors: 0,
        p99Ms: 0,
        maxLagMs: 0,
      });
      return;
    }
    const r = current.recorder;
    this.#progress.update({
      ...common,
      phase: current.label,
      elapsedSeconds: Math.max(0, now - r.start) / 1000,
      totalSeconds: Math.round(r.plannedSeconds * 10) / 10,
      sent: r.sent,
      planned: r.planned,
      accepted: r.accepted,
      errors: r.answered - r.accepted,
      p99Ms: r.p99Answered(),
      maxLagMs: r.maxLagMs(),
    });
  }
}

interface StressStep {
  rate: number;
  name: string;
  recorder: PhaseRecorder;
  planned: number;
  start: number;
  end: number;
  loop: Promise<unknown>;
  stop: AbortController;
  judged?: { measure: StepMeasure; verdict: StepVerdict };
  /** When and why it stopped before its end: the step before did not keep up, or an interruption. */
  cut?: { at: number; reason: string };
}

function roundMeasure(m: StepMeasure): StepMeasure {
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    rate: m.rate,
    plannedPerSecond: r(m.plannedPerSecond),
    acceptedPerSecond: r(m.acceptedPerSecond),
    p99Ms: r(m.p99Ms),
  };
}
