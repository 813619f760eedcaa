// The performance targets txflow holds itself to (docs/performance.md reports where it stands against each).
import type { WhileProcessing } from './processing-steps';
import { percent } from './report';

export interface TargetInputs {
  /** txflow accepted/s over raw starts/s, per concurrency. */
  acceptRatios: { concurrency: number; ratio: number }[];
  /** txflow end-to-end transactions/s over raw two-activity workflows/s. */
  endToEndRatio: number;
  /** Accept rate at 16 clients and submit tail at half the raw end-to-end rate, each side's worker processing. */
  busy: WhileProcessing;
  /**
   * Submit p99 (ms, from the planned send) at half the highest accept rate, of new ones and of repeats, and how
   * many of each were answered; any error fails the target (a p99 of what did not fail proves nothing).
   */
  halfRate: {
    fresh: { p99: number; count: number };
    repeats: { p99: number; count: number };
    errors: number;
  } | null;
  /** Peak RSS (MB) by process: api and worker, or api (the accept step's) and all-in-one. */
  peakRssMb: Record<string, number | null>;
}

export interface TargetVerdict {
  target: string;
  value: string;
  met: boolean | null;
}

export function judgeTargets(t: TargetInputs): TargetVerdict[] {
  const verdicts: TargetVerdict[] = t.acceptRatios.map(({ concurrency, ratio }) => ({
    target: `accept rate ≥ 0.9 × raw starts, ${concurrency} caller${concurrency === 1 ? '' : 's'}`,
    value: percent(ratio),
    met: ratio >= 0.9,
  }));
  verdicts.push({
    target: 'end to end ≥ 1.0 × raw two-activity workflows',
    value: percent(t.endToEndRatio),
    met: t.endToEndRatio >= 1.0,
  });
  verdicts.push({
    target: 'accept rate ≥ 0.9 × raw starts, 16 callers, while the workers process',
    value: percent(t.busy.accept.ratio),
    met: t.busy.accept.ratio >= 0.9,
  });
  const { tail } = t.busy;
  verdicts.push({
    target: `submit p99 ≤ raw start p99 + 20 ms at half the raw end-to-end rate (${tail.rate}/s), while processing`,
    value: `${tail.txflow.p99} ms against ${tail.raw.p99} ms${tail.errors > 0 ? `, ${tail.errors} failed` : ''}`,
    met: tail.errors === 0 && tail.txflow.p99 <= tail.raw.p99 + 20,
  });
  for (const kind of ['fresh', 'repeats'] as const) {
    const measured = t.halfRate?.[kind];
    const target = `submit p99 ≤ 50 ms at half the top accept rate, ${kind === 'fresh' ? 'new' : 'repeated'} transactions`;
    if (!t.halfRate || !measured || measured.count === 0) {
      verdicts.push({ target, value: 'not measured', met: null });
      continue;
    }
    const errors = t.halfRate.errors;
    verdicts.push({
      target,
      value: `${measured.p99} ms${errors > 0 ? `, ${errors} failed` : ''}`,
      met: errors === 0 && measured.p99 <= 50,
    });
  }
  for (const [name, mb] of Object.entries(t.peakRssMb)) {
    verdicts.push({
      target: `${name === 'api' ? 'API' : name} peak RSS < 250 MB`,
      value: mb === null ? 'not measured' : `${mb} MB`,
      met: mb === null ? null : mb < 250,
    });
  }
  return verdicts;
}
