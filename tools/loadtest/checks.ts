import type { Check, LoadTestResult } from './result';

type Measured = Omit<LoadTestResult, 'checks' | 'passed' | 'warnings'>;

const list = (ids: readonly string[], total: number) =>
  ids.length === 0 ? '' : `: ${ids.slice(0, 5).join(', ')}${total > 5 ? `, ... (${total})` : ''}`;

/**
 * The pass/fail verdicts; any false one makes the exit code 1. Downstream checks are null (not run) without
 * a mock.
 */
export function buildChecks(r: Measured): Check[] {
  const c = r.completion;
  const checks: Check[] = [
    {
      name: 'every accepted transaction finished (completed, failed or cancelled) within the deadline',
      ok: c.notTerminal === 0,
      detail:
        `${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.notTerminal} not finished after waiting ` +
        `${c.drainSeconds} s (deadline ${c.deadlineSeconds} s)${list(c.notTerminalIds, c.notTerminal)}`,
    },
    {
      // Nobody cancels in a load test: a cancelled one was not posted, like a failed one.
      name: 'no accepted transaction failed or was cancelled',
      ok: c.failed === 0 && c.cancelled === 0,
      detail: `${c.failed} failed, ${c.cancelled} cancelled${list(
        c.failedTransactions.map((f) => `${f.id} (${f.lastError ?? 'no error'})`),
        c.failed,
      )}`,
    },
  ];
  const isRefusal = (key: string) => /^4\d\d$/.test(key) && key !== '408' && key !== '429';
  const refused = r.phases.flatMap((p) => Object.entries(p.errors).filter(([key]) => isRefusal(key)));
  const refusedCount = refused.reduce((a, [, n]) => a + n, 0);
  const sample = r.phases.flatMap((p) => Object.entries(p.errorSamples).filter(([key]) => isRefusal(key)))[0];
  checks.push({
    name: 'no submission refused (4xx): the bodies are valid and re-sends identical (a 409 means broken idempotency)',
    ok: refusedCount === 0,
    detail:
      refusedCount === 0
        ? 'none'
        : refused.map(([k, n]) => `${n} x ${k}`).join(', ') +
          (sample === undefined ? '' : `; e.g. ${sample[0]}: ${sample[1].slice(0, 200)}`),
  });
  const v = r.verification;
  if (v === null && r.verificationError !== null) {
    checks.push({
      name: 'downstream holds each accepted transaction exactly once',
      ok: false,
      detail: `could not read the mock afterwards: ${r.verificationError}`,
    });
    return checks;
  }
  if (v === null) {
    checks.push({
      name: 'downstream holds each accepted transaction exactly once',
      ok: null,
      detail: 'no mock (--mock none)',
    });
    return checks;
  }
  checks.push(
    {
      name: 'no transaction posted twice downstream',
      ok: v.counts.duplicates === 0 && v.mock.duplicatesReported.length === 0,
      detail:
        `${v.counts.duplicates} duplicated` +
        list(
          v.duplicates.map((d) => `${d.id} x${d.copies}`),
          v.counts.duplicates,
        ) +
        (v.mock.duplicatesReported.length > 0
          ? `; the mock reports ${v.mock.duplicatesReported.length}`
          : ''),
    },
    {
      name: 'no accepted transaction lost (finished but not held downstream)',
      ok: v.counts.lost === 0,
      detail: `${v.counts.lost} lost${list(
        v.lost.map((l) => `${l.id} (${l.status})`),
        v.counts.lost,
      )}; ${v.heldOnce} of ${v.started} held exactly once`,
    },
    {
      name: 'nothing posted that the API did not accept',
      ok: v.counts.unexpected === 0,
      detail: `${v.counts.unexpected} unexpected${list(v.unexpected, v.counts.unexpected)}`,
    },
    {
      name: 'downstream holds the amounts and currencies sent',
      ok: v.counts.mismatched === 0,
      detail: `${v.counts.mismatched} mismatched${list(
        v.mismatched.map((m) => `${m.id}: sent ${m.expected}, held ${m.stored}`),
        v.counts.mismatched,
      )}`,
    },
    {
      name: 'no transaction both failed in txflow and held downstream',
      ok: v.counts.failedButPosted === 0,
      detail: `${v.counts.failedButPosted}${list(v.failedButPosted, v.counts.failedButPosted)}`,
    },
  );
  return checks;
}

/** Things that do not fail the run but qualify its figures. */
export function collectWarnings(r: Measured): string[] {
  const o = r.options;
  const warnings: string[] = [];
  if (r.interrupted) warnings.push('interrupted: phases after the interruption did not run');
  for (const p of r.phases) {
    const errors = Object.entries(p.errors);
    if (errors.length > 0 && p.kind !== 'stress') {
      warnings.push(
        `${p.name}: ${errors.map(([k, n]) => `${n} x ${k}`).join(', ')} (error rate ${(p.errorRate * 100).toFixed(2)}%)`,
      );
    }
    if (p.scheduleLagMs.p99 > 10) {
      warnings.push(
        `${p.name}: the load generator fell behind its schedule (lag p99 ${p.scheduleLagMs.p99} ms, max ` +
          `${p.scheduleLagMs.max} ms); latency from the planned time includes that delay`,
      );
    }
    if (p.maxInFlight > o.connections) {
      warnings.push(
        `${p.name}: up to ${p.maxInFlight} submissions in flight on ${o.connections} connections: latency ` +
          'from the send includes waiting for a free connection (raise --connections)',
      );
    }
  }
  if (r.faults.restored === false)
    warnings.push('could not restore the mock fault settings: check GET /admin/faults');
  const sweep = r.completion.sweep;
  if (sweep.listing === 'unsupported' || sweep.listing === 'failing') {
    warnings.push(
      `the transaction listing ${sweep.listing === 'unsupported' ? 'is not available' : 'kept failing'} ` +
        `(${sweep.detail ?? 'no detail'}): statuses came from per-ID polls at --poll-rate/--drain-poll-rate`,
    );
  }
  const adaptive = r.completion.adaptivePolling;
  if (adaptive.cuts > 0) {
    warnings.push(
      `per-ID polls were slowed ${adaptive.cuts} times (down to ${adaptive.lowestRate ?? '?'}/s): the API ` +
        'answered them with 5xx, 429, timeouts or slowly',
    );
  }
  if (r.completion.notFoundPolls > 0) {
    warnings.push(`${r.completion.notFoundPolls} polls answered 404 for an accepted transaction`);
  }
  if (r.completion.endToEndMs.count > 0 && r.completion.endToEndMs.p50 + 50 < r.completion.processingMs.p50) {
    warnings.push(
      'end-to-end times are below server processing times: the API host clock is behind this one',
    );
  }
  return warnings;
}
