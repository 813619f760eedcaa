// The performance targets txflow holds itself to (the README reports where it stands against each).

export interface TargetInputs {
  /** txflow accepted/s over raw starts/s, per concurrency. */
  acceptRatios: { concurrency: number; ratio: number }[];
  /** txflow end-to-end transactions/s over raw two-activity workflows/s. */
  endToEndRatio: number;
  /** Submit p99 (ms, from the planned send) at half the highest accept rate: new ones and repeats. */
  halfRateP99Ms: { fresh: number; repeats: number } | null;
  /** Peak RSS (MB) of the API and the worker processes. */
  peakRssMb: { api: number | null; worker: number | null };
}

export interface TargetVerdict {
  target: string;
  value: string;
  met: boolean | null;
}

const pct = (r: number) => `${(r * 100).toFixed(0)}%`;

export function judgeTargets(t: TargetInputs): TargetVerdict[] {
  const verdicts: TargetVerdict[] = t.acceptRatios.map(({ concurrency, ratio }) => ({
    target: `accept rate ≥ 0.9 × raw starts, ${concurrency} caller${concurrency === 1 ? '' : 's'}`,
    value: pct(ratio),
    met: ratio >= 0.9,
  }));
  verdicts.push({
    target: 'end to end ≥ 0.8 × raw two-activity workflows',
    value: pct(t.endToEndRatio),
    met: t.endToEndRatio >= 0.8,
  });
  for (const kind of ['fresh', 'repeats'] as const) {
    const p99 = t.halfRateP99Ms?.[kind];
    verdicts.push({
      target: `submit p99 ≤ 50 ms at half the top accept rate, ${kind === 'fresh' ? 'new' : 'repeated'} transactions`,
      value: p99 === undefined ? 'not measured' : `${p99} ms`,
      met: p99 === undefined ? null : p99 <= 50,
    });
  }
  for (const name of ['api', 'worker'] as const) {
    const mb = t.peakRssMb[name];
    verdicts.push({
      target: `${name === 'api' ? 'API' : 'worker'} peak RSS < 250 MB`,
      value: mb === null ? 'not measured' : `${mb} MB`,
      met: mb === null ? null : mb < 250,
    });
  }
  return verdicts;
}
