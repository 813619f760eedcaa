import type { FaultKind, MockStats, RequestKind } from '../mock/store';
import type { DownstreamRow } from './mock-admin';

export interface VerifyInput {
  idPrefix: string;
  /** Every transaction of the run and what the downstream must hold for it. */
  expected: ReadonlyMap<string, { amount: string; currency: string }>;
  /** Final status of every transaction the API started (from the poller); "absent": the API never had it. */
  statuses: ReadonlyMap<string, string>;
  /** All rows of the downstream (other runs' too: filtered by the prefix here). */
  rows: readonly DownstreamRow[];
  statsBefore: MockStats;
  statsAfter: MockStats;
}

export interface VerificationResult {
  /** Rows of this run's IDs, and how many distinct IDs they hold. */
  rowsForRun: number;
  distinctIds: number;
  /** Transactions the API started (acknowledged, or found after a failed submission). */
  started: number;
  /** Started, finished (completed or failed) and held exactly once. */
  heldOnce: number;
  /** IDs held more than once. */
  duplicates: { id: string; copies: number }[];
  /** Started and finished, but not held downstream (by final status). */
  lost: { id: string; status: string }[];
  /** Not finished at the deadline and not held downstream (counted by the terminal check, not as lost). */
  missingNotTerminal: number;
  /** Held downstream although the API never started them. */
  unexpected: string[];
  /** Failed in txflow but held downstream: the two disagree. */
  failedButPosted: string[];
  /** Held with another amount or currency than sent. */
  mismatched: { id: string; expected: string; stored: string }[];
  /** Full counts of the lists above (the lists stop at 100 entries). */
  counts: {
    duplicates: number;
    lost: number;
    unexpected: number;
    failedButPosted: number;
    mismatched: number;
  };
  /** The mock's counters over the run (posts stored, requests, injected faults). */
  mock: {
    posts: number;
    requests: Record<RequestKind, number>;
    faults: Record<FaultKind, number>;
    /** IDs of this run that the mock itself reports as stored more than once. */
    duplicatesReported: string[];
  };
}

const LIST_LIMIT = 100;
const TERMINAL = new Set(['completed', 'failed']);

/** Checks that the downstream holds each started transaction exactly once, as sent, and nothing else. */
export function verifyDownstream(input: VerifyInput): VerificationResult {
  const { idPrefix, expected, statuses } = input;
  const rows = input.rows.filter((r) => r.id.startsWith(idPrefix));
  const byId = new Map<string, DownstreamRow[]>();
  for (const row of rows) {
    const list = byId.get(row.id);
    if (list === undefined) byId.set(row.id, [row]);
    else list.push(row);
  }
  const duplicates: { id: string; copies: number }[] = [];
  const unexpected: string[] = [];
  const failedButPosted: string[] = [];
  const mismatched: { id: string; expected: string; stored: string }[] = [];
  for (const [id, list] of byId) {
    if (list.length > 1) duplicates.push({ id, copies: list.length });
    const status = statuses.get(id);
    if (status === undefined || status === 'absent') unexpected.push(id);
    if (status === 'failed') failedButPosted.push(id);
    const want = expected.get(id);
    for (const row of list) {
      const stored = `${row.amount} ${row.currency}`;
      const sent = want === undefined ? '(not sent)' : `${want.amount} ${want.currency}`;
      if (stored !== sent) mismatched.push({ id, expected: sent, stored });
    }
  }
  const lost: { id: string; status: string }[] = [];
  let started = 0;
  let heldOnce = 0;
  let missingNotTerminal = 0;
  for (const [id, status] of statuses) {
    if (status === 'absent') continue;
    started++;
    const copies = byId.get(id)?.length ?? 0;
    if (copies === 1 && TERMINAL.has(status)) heldOnce++;
    if (copies > 0) continue;
    if (TERMINAL.has(status)) lost.push({ id, status });
    else missingNotTerminal++;
  }
  const { statsBefore: before, statsAfter: after } = input;
  const delta = <K extends string>(a: Record<K, number>, b: Record<K, number>): Record<K, number> =>
    Object.fromEntries(Object.keys(b).map((k) => [k, b[k as K] - (a[k as K] ?? 0)])) as Record<K, number>;
  return {
    rowsForRun: rows.length,
    distinctIds: byId.size,
    started,
    heldOnce,
    duplicates: duplicates.slice(0, LIST_LIMIT),
    lost: lost.slice(0, LIST_LIMIT),
    missingNotTerminal,
    unexpected: unexpected.slice(0, LIST_LIMIT),
    failedButPosted: failedButPosted.slice(0, LIST_LIMIT),
    mismatched: mismatched.slice(0, LIST_LIMIT),
    counts: {
      duplicates: duplicates.length,
      lost: lost.length,
      unexpected: unexpected.length,
      failedButPosted: failedButPosted.length,
      mismatched: mismatched.length,
    },
    mock: {
      posts: after.posts - before.posts,
      requests: delta(before.requests, after.requests),
      faults: delta(before.faults, after.faults),
      duplicatesReported: after.duplicates.filter((id) => id.startsWith(idPrefix)).slice(0, LIST_LIMIT),
    },
  };
}
