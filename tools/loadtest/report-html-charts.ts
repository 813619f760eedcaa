import type { LoadTestResult } from './result';
import { histogramChart, lineChart, type Band } from './svg-chart';
import { ms } from './summary';

const COLORS = {
  p50: '#2b8a3e',
  p90: '#4a7dbf',
  p99: '#e8590c',
  max: '#c92a2a',
  planned: '#868e96',
  sent: '#4a7dbf',
};

/** Phase stretches of the time axis, stress steps one by one, then the wait for completion. */
function bands(r: LoadTestResult): Band[] {
  const out: Band[] = [];
  for (const p of r.phases) {
    if (p.kind === 'stress' && r.stress !== null) {
      for (const s of r.stress.steps)
        out.push({ from: s.startSecond, to: s.startSecond + s.plannedSeconds, label: s.name });
    } else {
      out.push({ from: p.startSecond, to: p.startSecond + p.plannedSeconds, label: p.name });
    }
  }
  const lastEnd = Math.max(0, ...out.map((b) => b.to));
  const end = r.timeline.length;
  if (end > lastEnd + 1) out.push({ from: lastEnd, to: end, label: 'drain' });
  return out;
}

/** The report's four charts as inline SVG: latency, throughput and backlog per second, end-to-end times. */
export function reportCharts(r: LoadTestResult) {
  const t = r.timeline;
  const b = bands(r);
  const at = (f: (p: (typeof t)[number]) => number | null) => t.map((p) => [p.second, f(p)] as const);
  const latencyChart = lineChart({
    title: 'Submit latency from the planned send time, per second (log scale)',
    xLabel: 'seconds since start (by planned send time)',
    yLabel: 'ms',
    yScale: 'log',
    bands: b,
    series: (['p50', 'p90', 'p99', 'max'] as const).map((k) => ({
      name: k,
      color: COLORS[k],
      points: at((p) => p.latencyMs?.[k] ?? null),
      dashed: k === 'max',
    })),
  });
  const throughputChart = lineChart({
    title: 'Throughput per second',
    xLabel: 'seconds since start',
    yLabel: 'per second',
    bands: b,
    series: [
      { name: 'planned', color: COLORS.planned, points: at((p) => p.planned), dashed: true },
      { name: 'sent', color: COLORS.sent, points: at((p) => p.sent) },
      { name: 'accepted (2xx)', color: COLORS.p50, points: at((p) => p.accepted) },
      { name: 'errors', color: COLORS.max, points: at((p) => p.errors) },
      {
        name: 'transactions finished',
        color: COLORS.p99,
        points: at((p) => p.finished),
      },
    ],
  });
  const backlogChart = lineChart({
    title: 'Backlog: submissions awaiting an answer, accepted transactions not finished yet',
    xLabel: 'seconds since start',
    yLabel: 'count',
    bands: b,
    series: [
      { name: 'submissions in flight', color: COLORS.sent, points: at((p) => p.inFlight) },
      { name: 'transactions not finished', color: COLORS.p99, points: at((p) => p.pendingCompletion) },
    ],
  });
  const e2eChart = histogramChart({
    title: `End-to-end: planned send to completed, ${r.completion.endToEndMs.count} transactions (log bins)`,
    xLabel: 'ms (log scale)',
    yLabel: 'transactions',
    bins: r.endToEndBins,
    markers: [
      { value: r.completion.endToEndMs.p50, label: `p50 ${ms(r.completion.endToEndMs.p50)}` },
      { value: r.completion.endToEndMs.p99, label: `p99 ${ms(r.completion.endToEndMs.p99)}` },
    ],
  });

  return { latencyChart, throughputChart, backlogChart, e2eChart };
}
