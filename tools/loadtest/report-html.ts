import type { LatencySummary } from '../shared/histogram';
import type { LoadTestResult, PhaseResult } from './result';
import { escapeXml as esc, histogramChart, lineChart, type Band } from './svg-chart';
import { ms } from './summary';

const COLORS = {
  p50: '#2b8a3e',
  p90: '#4a7dbf',
  p99: '#e8590c',
  max: '#c92a2a',
  planned: '#868e96',
  sent: '#4a7dbf',
};

function table(headers: string[], rows: string[][], rawCells = false): string {
  const cell = (c: string) => (rawCells ? c : esc(c));
  return (
    `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

const latency = (l: LatencySummary) => [ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)];

function phaseRows(phases: readonly PhaseResult[]): string[][] {
  return phases.map((p) => [
    p.name,
    String(p.rate),
    String(p.submissions.sent),
    String(p.submissions.accepted),
    String(p.submissions.answered - p.submissions.accepted),
    `${(p.errorRate * 100).toFixed(2)}%`,
    p.acceptedPerSecond.toFixed(1),
    ...latency(p.latencyMs.fromPlanned),
    ms(p.latencyMs.fromSent.p50),
    ms(p.latencyMs.fromSent.p99),
    `${ms(p.scheduleLagMs.p99)} / ${ms(p.scheduleLagMs.max)}`,
    Object.entries(p.errors)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || '-',
  ]);
}

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

/** The whole report as one HTML file: inline CSS and SVG, no script, nothing fetched. */
export function renderHtml(r: LoadTestResult): string {
  const o = r.options;
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
  const c = r.completion;
  const e2eChart = histogramChart({
    title: `End-to-end: planned send to completed, ${c.endToEndMs.count} transactions (log bins)`,
    xLabel: 'ms (log scale)',
    yLabel: 'transactions',
    bins: r.endToEndBins,
    markers: [
      { value: c.endToEndMs.p50, label: `p50 ${ms(c.endToEndMs.p50)}` },
      { value: c.endToEndMs.p99, label: `p99 ${ms(c.endToEndMs.p99)}` },
    ],
  });

  const checks = table(
    ['', 'check', 'detail'],
    r.checks.map((ch) => {
      const [cls, text] = ch.ok === null ? ['skip', 'SKIP'] : ch.ok ? ['pass', 'PASS'] : ['fail', 'FAIL'];
      return [`<span class="${cls}">${text}</span>`, esc(ch.name), esc(ch.detail)];
    }),
    true,
  );
  const stress =
    r.stress === null
      ? ''
      : `<h2>Stress ramp</h2><p>A step keeps up when accepted/s reaches ${r.stress.criteria.minAcceptRatio * 100}% of ` +
        `its planned submissions/s and its p99 (from the planned time, unanswered ones counted at their age) stays ` +
        `at or under ${r.stress.criteria.maxP99Ms} ms. <b>${
          r.stress.knee === null
            ? 'Knee: none, the first step did not keep up.'
            : `Knee: ${r.stress.saturated ? '' : 'at least '}${esc(String(r.stress.knee.rate))} transactions/s` +
              ` (accepted ${esc(String(r.stress.knee.acceptedPerSecond))}/s, p99 ${esc(ms(r.stress.knee.p99Ms))} ms).`
        }</b> Stopped: ${esc(r.stress.stopReason)}.</p>` +
        table(
          [
            'step (tx/s)',
            'planned/s',
            'accepted/s',
            'ratio',
            'p99 at step end',
            'final p50',
            'final p99',
            'errors',
            'verdict',
          ],
          r.stress.steps.map((s, i) => [
            esc(String(s.rate)),
            s.measure.plannedPerSecond.toFixed(1),
            s.measure.acceptedPerSecond.toFixed(1),
            s.judged ? s.verdict.acceptRatio.toFixed(3) : '-',
            esc(ms(s.measure.p99Ms)),
            esc(ms(s.latencyMs.fromPlanned.p50)),
            esc(ms(s.latencyMs.fromPlanned.p99)),
            esc(String(s.submissions.answered - s.submissions.accepted)),
            (i === r.stress?.kneeIndex ? '<b>knee</b> ' : '') +
              esc(s.verdict.keptUp ? 'kept up' : s.verdict.reasons.join('; ')),
          ]),
          true,
        );
  const v = r.verification;
  const tally = (x: Record<string, number>) =>
    Object.entries(x)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || '-';
  const verification =
    v === null
      ? '<p>No mock given (--mock none): the downstream was not checked.</p>'
      : table(
          ['figure', 'value'],
          [
            ['rows of this run / distinct IDs', `${v.rowsForRun} / ${v.distinctIds}`],
            ['started by the API / finished and held exactly once', `${v.started} / ${v.heldOnce}`],
            [
              'duplicated / lost / unexpected / mismatched',
              `${v.counts.duplicates} / ${v.counts.lost} / ${v.counts.unexpected} / ${v.counts.mismatched}`,
            ],
            ['mock: rows stored during the run', String(v.mock.posts)],
            ['mock: requests during the run', tally(v.mock.requests)],
            ['mock: faults injected during the run', tally(v.mock.faults)],
          ],
        );
  const faults =
    r.faults.applied === null
      ? '<p>Fault settings of the mock left as they were.</p>'
      : `<p>Set for the run: <code>${esc(JSON.stringify(r.faults.applied))}</code>; before: <code>${esc(
          JSON.stringify(r.faults.previous),
        )}</code>; ${r.faults.restored === true ? 'restored after the run' : '<b>not restored</b>'}.</p>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>txflow load test ${esc(r.runId)} ${r.passed ? 'PASS' : 'FAIL'}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:700}
.pass{color:#2b8a3e;font-weight:700}.fail{color:#c92a2a;font-weight:700}.skip{color:#868e96;font-weight:700}
.PASS{background:#2b8a3e}.FAIL{background:#c92a2a}.meta{color:#555}svg{max-width:100%;height:auto;display:block;margin:8px 0}
code,pre{font:12px ui-monospace,monospace;background:#f7f7f7}pre{padding:8px;overflow:auto}
</style>
</head>
<body>
<h1>txflow load test <span class="verdict ${r.passed ? 'PASS' : 'FAIL'}">${r.passed ? 'PASS' : 'FAIL'}</span></h1>
<p class="meta">Run ${esc(r.runId)} (IDs ${esc(r.idPrefix)}*), ${esc(r.startedAt)} to ${esc(r.finishedAt)} (${r.durationSeconds} s)${
    r.interrupted ? ', <b>interrupted</b>' : ''
  }.<br>API ${esc(r.target.api)}, mock ${esc(r.target.mock ?? 'none')}; ${esc(o.arrival)} arrivals, seed ${o.seed}, duplicates ${o.duplicates}, webhook share ${o.webhookShare}; Node ${esc(r.environment.node)} on ${esc(r.environment.platform)}, ${r.environment.cpus} CPUs.</p>

<h2>Checks</h2>
${checks}
${r.warnings.length > 0 ? `<ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}

<h2>Phases</h2>
<p>Open loop: each submission leaves at its planned time whatever earlier ones are doing. Latency is from the planned
send time (what a client arriving then would see, queueing in the load generator included) and, for comparison, from
the moment the request was handed to the HTTP client. Lag: how late sends left against plan. Times in ms.</p>
${table(
  [
    'phase',
    'tx/s',
    'sent',
    'accepted',
    'errors',
    'error %',
    'accepted/s',
    'p50',
    'p90',
    'p99',
    'p99.9',
    'max',
    'p50 (send)',
    'p99 (send)',
    'lag p99 / max',
    'errors by kind',
  ],
  phaseRows(r.phases),
)}
${stress}

<h2>Over time</h2>
${latencyChart}
${throughputChart}
${backlogChart}

<h2>Completion</h2>
<p>${c.tracked} transactions followed until completed, failed or cancelled (${c.foundUnacknowledged} of them found after every
submission had failed); ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, <b>${c.notTerminal} not finished</b> ${c.deadlineSeconds} s
after the last send (drained in ${c.drainSeconds} s).</p>
<p>Final statuses come in bulk from the listing (<code>GET /api/transactions?status=…</code>, swept every ${o.sweepSeconds} s
during the load and every ${o.drainSweepSeconds} s after it), and from per-ID polls (<code>GET /api/transactions/{id}</code>,
at most ${o.sweepPollRate}/s while the listing works, else ${o.pollRate}/s during the load and ${o.drainPollRate}/s after it)
for unacknowledged submissions, for attempts and outcome, and for what the listing has not shown yet.</p>
${table(
  ['settled by', 'transactions', 'requests', 'answers'],
  [
    [
      `listing sweep (${c.sweep.listing})`,
      String(c.settledBy.sweep),
      `${c.sweep.sweeps} sweeps, ${c.sweep.pages} pages, ${c.sweep.listed} items`,
      tally(c.sweep.answers),
    ],
    ['per-ID poll', String(c.settledBy.poll), `${c.polls} polls`, tally(c.pollAnswers)],
  ],
)}
<p>${esc(
    [
      c.sweep.detail === null ? '' : `Listing ${c.sweep.listing}: ${c.sweep.detail}.`,
      c.sweep.failedSweeps > 0 ? `${c.sweep.failedSweeps} sweeps failed.` : '',
      c.adaptivePolling.cuts > 0
        ? `The per-ID poll rate was halved ${c.adaptivePolling.cuts} times (lowest ${c.adaptivePolling.lowestRate ?? '?'}/s): polls failed or were slow.`
        : 'The per-ID poll rate was never cut (no 5xx, 429, timeout or slow answer).',
    ]
      .filter((x) => x !== '')
      .join(' '),
  )}</p>
${table(
  ['time to finish (ms)', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
  [
    ['planned send → completedAt (API clock)', String(c.endToEndMs.count), ...latency(c.endToEndMs)],
    ['API submittedAt → completedAt', String(c.processingMs.count), ...latency(c.processingMs)],
    ['planned send → seen by a poll or sweep', String(c.observedMs.count), ...latency(c.observedMs)],
  ],
)}
<p>Of the ${c.settledBy.poll} settled by a per-ID poll (the listing does not carry them): outcomes
${esc(tally(c.outcomes))}; downstream calls per transaction ${esc(tally(c.attempts))}.</p>
${e2eChart}

<h2>Downstream</h2>
${verification}
${faults}

<h2>Options</h2>
<pre>${esc(JSON.stringify(o, null, 2))}</pre>
<p class="meta">Made by <code>npm run loadtest</code>; the JSON result next to this file holds every figure, the
per-second timeline and the HdrHistograms.</p>
</body>
</html>
`;
}
