import { findKnee, judgeStep, stressRates, type StepMeasure, type StepVerdict } from './knee';
import type { LoadTestOptions } from './options';
import type { PhaseRecorder } from './phase-recorder';
import type { Progress } from './progress';
import type { StressResult, StressStepResult } from './result';
import type { Sender } from './run-sender';
import { runOpenLoop, type Clock } from '../shared/schedule';
import { ms } from './summary';

export interface StressContext {
  options: LoadTestOptions;
  clock: Clock;
  progress: Progress;
  sender: Sender;
  /** Aborting stops the ramp: the running step is cut. */
  signal: AbortSignal | undefined;
  /** A step started: the progress display follows it. */
  onStep(recorder: PhaseRecorder, label: string): void;
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

/**
 * The stress phase: steps of rising rate, back to back on one time grid: each step starts when the previous
 * one was planned to end, answered or not. A step is judged a grace period after its window (the p99
 * threshold, at most a step long), while the next step already runs, so its own late answers count; when it
 * did not keep up, the running step is cut short and the ramp ends.
 */
export class StressRamp {
  readonly #c: StressContext;
  readonly #criteria: { minAcceptRatio: number; maxP99Ms: number };
  readonly #graceMs: number;
  /** The whole phase: every step's submissions. */
  readonly #whole: PhaseRecorder;
  readonly #steps: StressStep[] = [];
  #stopReason: string;

  constructor(c: StressContext) {
    const o = c.options;
    this.#c = c;
    this.#criteria = { minAcceptRatio: o.kneeAcceptRatio, maxP99Ms: o.kneeP99Ms };
    this.#graceMs = Math.min(o.kneeP99Ms, o.stressStepSeconds * 1000);
    this.#whole = c.sender.newRecorder('stress', 'stress', o.stressStart, c.clock.now(), 0);
    this.#stopReason = `reached --stress-max ${o.stressMax}/s`;
  }

  get #aborted(): boolean {
    return this.#c.signal?.aborted === true;
  }

  async run(): Promise<{ recorder: PhaseRecorder; result: StressResult }> {
    await this.#ramp();
    await this.#c.sender.settle();
    this.#trimCutSteps();
    return { recorder: this.#whole, result: this.#result() };
  }

  /** Launches each step, and judges the one before while it runs. */
  async #ramp(): Promise<void> {
    const o = this.#c.options;
    const rates = stressRates(o.stressStart, o.stressStep, o.stressMax);
    let start = this.#c.clock.now();
    let previous: StressStep | undefined;
    for (let i = 0; ; i++) {
      const rate = rates[i];
      const current = rate !== undefined && !this.#aborted ? this.#launch(rate, start) : undefined;
      if (previous !== undefined) {
        await this.#sleepUntil(previous.end + this.#graceMs);
        const verdict = this.#judge(previous);
        if (!verdict.keptUp) {
          this.#stopReason = `${previous.name} did not keep up: ${verdict.reasons.join('; ')}`;
          if (current !== undefined) this.#cut(current, 'cut short: the step before did not keep up');
        }
      }
      if (current === undefined) {
        if (this.#aborted) this.#stopReason = 'interrupted';
        return;
      }
      await current.loop;
      if (current.stop.signal.aborted) {
        if (this.#aborted) this.#stopReason = 'interrupted';
        return;
      }
      await this.#sleepUntil(current.end);
      previous = current;
      start = current.end;
    }
  }

  #launch(rate: number, start: number): StressStep {
    const { options: o, sender, signal } = this.#c;
    const name = `stress@${rate}`;
    const plan = sender.plan(name, rate, { seconds: o.stressStepSeconds });
    const recorder = sender.newRecorder(name, 'stress', rate, start, o.stressStepSeconds);
    recorder.transactions = plan.transactions;
    recorder.planned = plan.items.length;
    this.#whole.transactions += plan.transactions;
    this.#whole.planned += plan.items.length;
    this.#c.onStep(recorder, name);
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
    const onAbort = () => this.#cut(step, 'interrupted');
    signal?.addEventListener('abort', onAbort, { once: true });
    step.loop = runOpenLoop(
      plan.items,
      (sub, planned, actual) => sender.send([recorder, this.#whole], sub, planned, actual),
      { start, clock: this.#c.clock, signal: step.stop.signal },
    ).finally(() => signal?.removeEventListener('abort', onAbort));
    this.#steps.push(step);
    return step;
  }

  #cut(step: StressStep, reason: string): void {
    if (step.cut !== undefined) return;
    step.cut = { at: this.#c.clock.now(), reason };
    step.stop.abort();
  }

  #judge(step: StressStep): StepVerdict {
    const o = this.#c.options;
    const measure = {
      rate: step.rate,
      plannedPerSecond: step.planned / o.stressStepSeconds,
      acceptedPerSecond: step.recorder.accepted / o.stressStepSeconds,
      p99Ms: step.recorder.p99SoFar(this.#c.clock.now()),
    };
    const verdict = judgeStep(measure, this.#criteria);
    step.judged = { measure, verdict };
    this.#c.progress.log(
      `${step.name}: ${verdict.keptUp ? 'kept up' : `did not keep up: ${verdict.reasons.join('; ')}`} ` +
        `(accepted ${measure.acceptedPerSecond.toFixed(1)}/s of ${measure.plannedPerSecond.toFixed(1)}/s ` +
        `planned, p99 ${ms(measure.p99Ms)} ms)`,
    );
    return verdict;
  }

  async #sleepUntil(t: number): Promise<void> {
    const wait = t - this.#c.clock.now();
    if (wait > 0) await this.#c.clock.sleep(wait);
  }

  /** Only what was sent before a cut counts as planned; the phase lasts until the last step's end or cut. */
  #trimCutSteps(): void {
    const whole = this.#whole;
    for (const step of this.#steps) {
      if (step.cut === undefined) continue;
      whole.planned -= step.recorder.planned - step.recorder.sent;
      step.recorder.planned = step.recorder.sent;
      step.recorder.plannedSeconds = (step.cut.at - step.start) / 1000;
    }
    const [first, last] = [this.#steps[0], this.#steps[this.#steps.length - 1]];
    whole.plannedSeconds =
      first === undefined || last === undefined ? 0 : ((last.cut?.at ?? last.end) - first.start) / 1000;
  }

  #result(): StressResult {
    const steps = this.#steps.map((s) => this.#stepResult(s));
    const judged = this.#steps.flatMap((s) => (s.judged === undefined ? [] : [s.judged]));
    const kneeIndex = findKnee(judged.map((j) => j.verdict));
    const kneeStep = kneeIndex === null ? undefined : judged[kneeIndex]?.measure;
    return {
      criteria: this.#criteria,
      graceMs: this.#graceMs,
      steps,
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
      stopReason: this.#stopReason,
    };
  }

  /** A step's figures; one never judged (cut, or interrupted) is measured over what it sent. */
  #stepResult(s: StressStep): StressStepResult {
    return {
      ...s.recorder.result(),
      judged: s.judged !== undefined,
      measure: roundMeasure(
        s.judged?.measure ?? {
          rate: s.rate,
          plannedPerSecond: s.recorder.planned / s.recorder.plannedSeconds,
          acceptedPerSecond: s.recorder.accepted / s.recorder.plannedSeconds,
          p99Ms: s.recorder.p99SoFar(this.#c.clock.now()),
        },
      ),
      verdict:
        s.judged === undefined
          ? { keptUp: false, acceptRatio: 0, reasons: [s.cut?.reason ?? 'not judged'] }
          : { ...s.judged.verdict, acceptRatio: Math.round(s.judged.verdict.acceptRatio * 1000) / 1000 },
    };
  }
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
