/** What a stress step is judged on, measured when the step's window ends. */
export interface StepMeasure {
  /** The step's rate of new transactions per second. */
  rate: number;
  /** Submissions (duplicates included) planned per second in the step. */
  plannedPerSecond: number;
  /** 2xx answers received per second during the step's window. */
  acceptedPerSecond: number;
  /** p99 submit latency from the planned send time, counting unanswered requests at their age so far. */
  p99Ms: number;
}

export interface KneeCriteria {
  /** accepted/s must reach this share of planned/s. */
  minAcceptRatio: number;
  maxP99Ms: number;
}

export interface StepVerdict {
  keptUp: boolean;
  acceptRatio: number;
  /** Why it did not keep up; empty when it did. */
  reasons: string[];
}

/** Whether a step kept up: accepted as fast as planned, and p99 under the threshold. */
export function judgeStep(step: StepMeasure, criteria: KneeCriteria): StepVerdict {
  const acceptRatio = step.plannedPerSecond > 0 ? step.acceptedPerSecond / step.plannedPerSecond : 1;
  const reasons: string[] = [];
  if (acceptRatio < criteria.minAcceptRatio) {
    reasons.push(
      `accepted ${step.acceptedPerSecond.toFixed(1)}/s < ${Math.round(criteria.minAcceptRatio * 100)}% of ` +
        `planned ${step.plannedPerSecond.toFixed(1)}/s`,
    );
  }
  if (step.p99Ms > criteria.maxP99Ms) {
    reasons.push(`p99 ${Math.round(step.p99Ms)} ms > ${criteria.maxP99Ms} ms`);
  }
  return { keptUp: reasons.length === 0, acceptRatio, reasons };
}

/**
 * The knee: the index of the last step of the unbroken run of steps that kept up from the first one, or
 * null when the first step already did not. A step that recovers after a failed one does not count: the
 * knee is where the system first stopped keeping up.
 */
export function findKnee(verdicts: readonly Pick<StepVerdict, 'keptUp'>[]): number | null {
  const firstFailure = verdicts.findIndex((v) => !v.keptUp);
  const last = firstFailure === -1 ? verdicts.length - 1 : firstFailure - 1;
  return last >= 0 ? last : null;
}

/** The stress steps' rates: start, start + step, ... up to max included (just start when step is 0). */
export function stressRates(start: number, step: number, max: number): number[] {
  if (step <= 0) return [start];
  const rates: number[] = [];
  // Rounded so 0.1-steps do not drift (0.1 + 0.2 = 0.30000000000000004).
  for (let k = 0; ; k++) {
    const rate = Math.round((start + k * step) * 1e6) / 1e6;
    if (rate > max + 1e-9) break;
    rates.push(rate);
  }
  return rates;
}
