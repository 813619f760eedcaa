import { renderTable } from '../../src/reconcile/table';
import type { LatencySummary } from '../shared/histogram';
import type { LoadTestResult, PhaseResult } from './result';

/** Milliseconds for a table cell: 0.42, 12.3, 456, 12 345. */
export function ms(v: number): string {
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return String(Math.round(v));
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const latencyCells = (l: LatencySummary) => [ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)];

function phaseRow(p: PhaseResult, rate: string): string[] {
  const errors = p.submissions.answered - p.submissions.accepted;
  return [
    p.name,
    rate,
    String(p.submissions.sent),
    String(p.submissions.accepted),
    String(errors),
    pct(p.errorRate),
    p.acceptedPerSecond.toFixed(1),
    ...latencyCells(p.latencyMs.fromPlanned),
    ms(p.latencyMs.fromSent.p99),
    `${ms(p.scheduleLagMs.p99)}/${ms(p.scheduleLagMs.max)}`,
  ];
}

/** How the final statuses were learnt: listing sweeps and per-ID polls. */
function settledLine(c: LoadTestResult['completion']): string {
  const sw = c.sweep;
  const listing =
    sw.listing === 'off'
      ? 'no listing sweeps'
      : `${sw.sweeps} listing sweeps (${sw.pages} pages, ${sw.listed} items` +
        `${sw.failedSweeps > 0 ? `, ${sw.failedSweeps} failed` : ''})` +
        (sw.listing === 'used' ? '' : `, listing ${sw.listing}: ${sw.detail ?? ''}`);
  const adapted =
    c.adaptivePolling.cuts > 0
      ? `, rate halved ${c.adaptivePolling.cuts}x (lowest ${c.adaptivePolling.lowestRate ?? '?'}/s)`
      : '';
  return (
    `${c.settledBy.sweep} by a listing sweep, ${c.settledBy.poll} by a per-ID poll; ${listing}; ` +
    `${c.polls} per-ID polls${adapted}`
  );
}

/** The end-of-run summary for the terminal. */
export function formatSummary(r: LoadTestResult): string {
  const out: string[] = [];
  const o = r.options;
  out.push(
    `txflow load test ${r.runId}: ${r.durationSeconds} s, api ${r.target.api}, mock ${r.target.mock ?? 'none'}, ` +
      `seed ${o.seed}, ${o.arrival} arrivals, duplicates ${o.duplicates}, webhook share ${o.webhookShare}`,
  );
  if (r.faults.applied !== null) {
    const knobs = Object.entries(r.faults.applied).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    out.push(
      `downstream faults: ${knobs.join(', ')} (${r.faults.restored === true ? 'restored after' : 'NOT restored'})`,
    );
  }
  out.push('');
  const stressRange =
    r.stress !== null && r.stress.steps.length > 0
      ? `${r.stress.steps[0]?.rate}→${r.stress.steps[r.stress.steps.length - 1]?.rate}`
      : '';
  out.push(
    renderTable(
      [
        'submit latency (ms, from planned send)',
        'tx/s',
        'sent',
        'ok',
        'err',
        'err%',
        'ok/s',
        'p50',
        'p90',
        'p99',
        'p99.9',
        'max',
        'p99 from send',
        'lag p99/max',
      ],
      r.phases.map((p) => phaseRow(p, p.kind === 'stress' ? stressRange : String(p.rate))),
    ),
  );
  const errorKinds = r.phases.flatMap((p) =>
    Object.entries(p.errors).map(([k, n]) => `${p.name} ${k}: ${n}`),
  );
  if (errorKinds.length > 0) out.push(`errors by status: ${errorKinds.join(', ')}`);

  if (r.stress !== null) {
    const s = r.stress;
    out.push('');
    out.push(
      `stress ramp: a step keeps up when accepted/s >= ${s.criteria.minAcceptRatio * 100}% of planned/s and p99 <= ${s.criteria.maxP99Ms} ms`,
    );
    out.push(
      renderTable(
        ['step tx/s', 'planned/s', 'accepted/s', 'ratio', 'p99 ms', 'errors', 'verdict'],
        s.steps.map((st, i) => [
          String(st.rate),
          st.measure.plannedPerSecond.toFixed(1),
          st.measure.acceptedPerSecond.toFixed(1),
          st.judged ? st.verdict.acceptRatio.toFixed(3) : '-',
          ms(st.measure.p99Ms),
          String(st.submissions.answered - st.submissions.accepted),
          (st.verdict.keptUp ? 'kept up' : st.verdict.reasons.join('; ')) +
            (i === s.kneeIndex ? '  <- knee' : ''),
        ]),
        ['right', 'right', 'right', 'right', 'right', 'right', 'left'],
      ),
    );
    out.push(
      s.knee === null
        ? `knee: none (the first step did not keep up); ${s.stopReason}`
        : `knee: ${s.saturated ? '' : 'at least '}${s.knee.rate} tx/s (accepted ${s.knee.acceptedPerSecond}/s, ` +
            `p99 ${ms(s.knee.p99Ms)} ms); stopped: ${s.stopReason}`,
    );
  }

  const c = r.completion;
  out.push('');
  out.push(
    `completion: ${c.tracked} transactions followed (${c.foundUnacknowledged} found after a failed submit), ` +
      `${c.completed} completed, ${c.failed} failed${c.cancelled > 0 ? `, ${c.cancelled} cancelled` : ''}, ` +
      `${c.notTerminal} not finished; drained in ${c.drainSeconds} s (deadline ${c.deadlineSeconds} s)`,
  );
  out.push(`settled: ${settledLine(c)}`);
  out.push(
    renderTable(
      ['time to finish (ms)', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      [
        ['planned send → completedAt', String(c.endToEndMs.count), ...latencyCells(c.endToEndMs)],
        ['API submittedAt → completedAt', String(c.processingMs.count), ...latencyCells(c.processingMs)],
        ['planned send → seen by a poll or sweep', String(c.observedMs.count), ...latencyCells(c.observedMs)],
      ],
    ),
  );
  const tally = (t: Record<string, number>) =>
    Object.entries(t)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
  if (Object.keys(c.outcomes).length > 0)
    out.push(
      `outcomes (of the ${c.settledBy.poll} settled by a poll): ${tally(c.outcomes)}; ` +
        `downstream calls per transaction: ${tally(c.attempts)}`,
    );

  const v = r.verification;
  if (v !== null) {
    out.push('');
    out.push(
      `downstream: ${v.rowsForRun} rows for ${v.distinctIds} IDs of this run; ${v.heldOnce} of ${v.started} started ` +
        `held exactly once; mock posts +${v.mock.posts}, requests ${tally(v.mock.requests)}; faults injected ${tally(v.mock.faults)}`,
    );
  }

  out.push('');
  out.push(
    renderTable(
      ['check', 'result', 'detail'],
      r.checks.map((ch) => [ch.name, ch.ok === null ? 'SKIP' : ch.ok ? 'PASS' : 'FAIL', ch.detail]),
      ['left', 'left', 'left'],
    ),
  );
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push('');
  out.push(r.passed ? 'RESULT: PASS' : 'RESULT: FAIL');
  return out.join('\n');
}
