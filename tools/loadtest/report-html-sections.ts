import type { LatencySummary } from '../shared/histogram';
import type { LoadTestResult, PhaseResult } from './result';
import { escapeXml as esc } from './svg-chart';
import { ms } from './summary';

export function table(headers: string[], rows: string[][], rawCells = false): string {
  const cell = (c: string) => (rawCells ? c : esc(c));
  return (
    `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

export const latency = (l: LatencySummary) => [ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)];

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

export const tally = (x: Record<string, number>) =>
  Object.entries(x)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || '-';

/** Each check with its verdict, then the run's warnings. */
export function checksSection(r: LoadTestResult): string {
  const checks = table(
    ['', 'check', 'detail'],
    r.checks.map((ch) => {
      const [cls, text] = ch.ok === null ? ['skip', 'SKIP'] : ch.ok ? ['pass', 'PASS'] : ['fail', 'FAIL'];
      return [`<span class="${cls}">${text}</span>`, esc(ch.name), esc(ch.detail)];
    }),
    true,
  );
  const warnings =
    r.warnings.length > 0 ? `<ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  return `${checks}\n${warnings}`;
}

/** One row per phase: what was planned, sent and accepted, and the latency from the planned send time. */
export function phasesTable(r: LoadTestResult): string {
  return table(
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
  );
}

/** The stress ramp's steps and its knee; empty without a stress phase. */
export function stressSection(r: LoadTestResult): string {
  return r.stress === null
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
}

/** How the final statuses were learnt, and the time each transaction took to finish. */
export function completionSection(r: LoadTestResult, e2eChart: string): string {
  const o = r.options;
  const c = r.completion;
  return `<p>${c.tracked} transactions followed until completed, failed or cancelled (${c.foundUnacknowledged} of them found after every
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
${e2eChart}`;
}

/** What the mock holds of the run, and the fault settings applied to it. */
export function downstreamSection(r: LoadTestResult): string {
  const v = r.verification;
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

  return `${verification}\n${faults}`;
}
