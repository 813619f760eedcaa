import { Agent, type Dispatcher } from 'undici';
import { mulberry32 } from '../shared/random';
import { CompletionTracker, LIST_FROM_MARGIN_MS } from './completion';
import { logBins } from './metrics';
import { MockAdmin } from './mock-admin';
import type { LoadTestOptions, PhaseKind } from './options';
import type { PhaseRecorder } from './phase-recorder';
import { silentProgress, type Progress } from './progress';
import type { LoadTestResult, StressResult } from './result';
import { ProgressTicker, type CurrentPhase } from './run-progress';
import { runResult } from './run-result';
import { Sender } from './run-sender';
import { StressRamp } from './run-stress';
import { apiHealth, applyFaults, checkDownstream, preflight, restoreFaults } from './run-target';
import { realClock, runOpenLoop, type Clock } from '../shared/schedule';
import { ms } from './summary';
import { Timeline } from './timeline';
import { runIdPrefix } from './workload';

export { LoadTestAbort } from './run-target';

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

/** What the phases left for the report. */
interface Phases {
  phases: PhaseRecorder[];
  stress: StressResult | null;
  drainSeconds: number;
}

/** One run: its phases in order, then the drain, the downstream check and the result. */
class Run {
  readonly #clock: Clock;
  readonly #progress: Progress;
  readonly #mock: MockAdmin | null;
  readonly #tracker: CompletionTracker;
  readonly #timeline: Timeline;
  readonly #sender: Sender;
  readonly #ticker: ProgressTicker;
  readonly #startedAt = new Date();
  readonly #runId: string;
  readonly #idPrefix: string;
  #current: CurrentPhase | undefined;

  constructor(
    readonly options: LoadTestOptions,
    readonly hooks: RunHooks,
    submitAgent: Dispatcher,
    readonly controlAgent: Dispatcher,
  ) {
    this.#clock = hooks.clock ?? realClock;
    this.#progress = hooks.progress ?? silentProgress;
    const random = mulberry32(options.seed);
    // The suffix is not from the seed: two runs with one seed must still not share IDs.
    const ids = runIdPrefix(this.#startedAt, Math.random);
    this.#runId = ids.runId;
    this.#idPrefix = ids.idPrefix;
    this.#mock =
      options.mock === null ? null : new MockAdmin(options.mock, controlAgent, options.requestTimeoutMs);
    const runStart = this.#clock.now();
    this.#timeline = new Timeline(runStart);
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
    this.#sender = new Sender({
      options,
      clock: this.#clock,
      random,
      idPrefix: this.#idPrefix,
      runStart,
      timeline: this.#timeline,
      tracker: this.#tracker,
      submitAgent,
    });
    this.#ticker = new ProgressTicker({
      clock: this.#clock,
      timeline: this.#timeline,
      tracker: this.#tracker,
      progress: this.#progress,
      deadlineSeconds: options.deadlineSeconds,
    });
  }

  get #aborted(): boolean {
    return this.hooks.signal?.aborted === true;
  }

  async execute(): Promise<LoadTestResult> {
    const o = this.options;
    const healthBefore = await preflight(o, this.#mock, this.controlAgent);
    const mock = this.#mock;
    if (mock !== null && o.cleanup)
      this.#progress.log(`cleanup: deleted ${await mock.cleanup()} downstream rows`);
    const statsBefore = mock === null ? null : await mock.stats();
    const faults = await applyFaults(mock, o.faults);
    const run = await this.#runPhases(faults);
    const interrupted = this.#aborted;
    const { verification, verificationError } = await checkDownstream(mock, statsBefore, {
      idPrefix: this.#idPrefix,
      expected: this.#sender.expected,
      statuses: this.#tracker.statuses(),
    });
    const healthAfter = await apiHealth(o.api, this.controlAgent).catch(() => null);
    const completion = {
      ...this.#tracker.result(),
      deadlineSeconds: o.deadlineSeconds,
      drainSeconds: Math.round(run.drainSeconds * 100) / 100,
      pollRate: o.pollRate,
    };
    const phases = run.phases.map((p) => p.result());
    for (const t of this.#tracker.finishTimes()) this.#timeline.onFinished(t);
    const result = runResult(this.#startedAt, {
      runId: this.#runId,
      idPrefix: this.#idPrefix,
      interrupted,
      target: { api: o.api, mock: o.mock },
      options: o,
      apiHealth: { before: healthBefore, after: healthAfter },
      faults,
      phases,
      stress: run.stress,
      completion,
      verification,
      verificationError,
      timeline: this.#timeline.points(),
      endToEndBins: logBins(this.#tracker.endToEndValues()),
    });
    this.#sender.destroy();
    this.#timeline.destroy();
    return result;
  }

  /** The phases asked for and the drain, with the ticker running; the faults are put back however it ends. */
  async #runPhases(faults: LoadTestResult['faults']): Promise<Phases> {
    const ticker = setInterval(() => this.#tick(), 1_000);
    try {
      this.#tracker.start();
      const { phases, stress } = await this.#loadPhases();
      return { phases, stress, drainSeconds: await this.#drain() };
    } finally {
      clearInterval(ticker);
      await this.#tracker.stop({ explainFailures: !this.#aborted });
      this.#progress.stop();
      await restoreFaults(this.#mock, faults);
    }
  }

  async #loadPhases(): Promise<Omit<Phases, 'drainSeconds'>> {
    const o = this.options;
    const phases: PhaseRecorder[] = [];
    let stress: StressResult | null = null;
    if (o.phases.includes('warmup') && o.warmupSeconds > 0) {
      phases.push(await this.#fixedPhase('warmup', 'warmup', o.warmupRate, { seconds: o.warmupSeconds }));
    }
    if (o.phases.includes('performance') && !this.#aborted) {
      const size = o.transactions !== null ? { count: o.transactions } : { seconds: o.durationSeconds };
      phases.push(await this.#fixedPhase('performance', 'performance', o.rate, size));
    }
    if (o.phases.includes('stress') && !this.#aborted) {
      const run = await new StressRamp({
        options: o,
        clock: this.#clock,
        progress: this.#progress,
        sender: this.#sender,
        signal: this.hooks.signal,
        onStep: (recorder, label) => {
          this.#current = { recorder, label };
        },
      }).run();
      phases.push(run.recorder);
      stress = run.result;
    }
    return { phases, stress };
  }

  /** Warm-up or performance: one rate for a duration (or a count), then wait for the answers. */
  async #fixedPhase(
    name: string,
    kind: PhaseKind,
    rate: number,
    size: { seconds: number } | { count: number },
  ): Promise<PhaseRecorder> {
    const plan = this.#sender.plan(name, rate, size);
    const start = this.#clock.now();
    const recorder = this.#sender.newRecorder(name, kind, rate, start, plan.windowMs / 1000);
    recorder.transactions = plan.transactions;
    recorder.planned = plan.items.length;
    this.#current = { recorder, label: name };
    await runOpenLoop(
      plan.items,
      (sub, planned, actual) => this.#sender.send([recorder], sub, planned, actual),
      { start, clock: this.#clock, signal: this.hooks.signal },
    );
    await this.#sender.settle();
    const r = recorder.result();
    this.#progress.log(
      `${name}: ${r.submissions.sent} sent, ${r.submissions.accepted} accepted (${r.acceptedPerSecond}/s), ` +
        `${r.submissions.answered - r.submissions.accepted} errors, p99 ${ms(r.latencyMs.fromPlanned.p99)} ms`,
    );
    return recorder;
  }

  /** After the last send: every answer, then every accepted transaction finished, or the deadline. */
  async #drain(): Promise<number> {
    const o = this.options;
    await this.#sender.settle();
    this.#sender.trackUnacknowledged();
    this.#tracker.setRate(o.drainPollRate);
    this.#tracker.setSweepInterval(o.drainSweepSeconds * 1000);
    const start = this.#clock.now();
    this.#current = undefined;
    await this.#tracker.waitAll(start + o.deadlineSeconds * 1000, this.hooks.stopWaiting);
    this.#tick();
    return (this.#clock.now() - start) / 1000;
  }

  #tick(): void {
    this.#ticker.tick(this.#current, this.#sender.inFlight);
  }
}
