import { request, type Dispatcher } from 'undici';
import type { Tracked } from './completion-types';
import type { Clock } from '../shared/schedule';
import { errorCode } from '../shared/error-code';
import { answerKey } from './submitter';

/** What a transaction's GET shows; only what the tracker reads, each field checked before use. */
export interface TransactionView {
  status?: unknown;
  attempts?: unknown;
  outcome?: unknown;
  lastError?: unknown;
  submittedAt?: unknown;
  completedAt?: unknown;
}

/** At most this many IDs in the result's lists (failed, not terminal), and failures explained. */
export const LIST_LIMIT = 100;
const EXPLAIN_BUDGET_MS = 10_000;
const EXPLAIN_READERS = 4;

/** One transaction's GET: the answer's key (status code or network error) and its view when 200. */
export async function readTransaction(
  { api, dispatcher }: { api: string; dispatcher: Dispatcher },
  id: string,
  timeoutMs: number,
): Promise<{ key: string; view?: TransactionView }> {
  try {
    const res = await request(`${api}/api/transactions/${encodeURIComponent(id)}`, {
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const key = String(res.statusCode);
    if (res.statusCode === 200) return { key, view: (await res.body.json()) as TransactionView };
    await res.body.dump();
    return { key };
  } catch (err) {
    return { key: answerKey({ status: null, error: errorCode(err) }) };
  }
}

/** What a GET that answered `status` shows of `t`, copied into it. */
export function applyView(t: Tracked, status: string, view: TransactionView): void {
  t.known = true;
  t.status = status;
  if (typeof view.attempts === 'number') t.attempts = view.attempts;
  if (typeof view.outcome === 'string' || view.outcome === null) t.outcome = view.outcome;
  if (typeof view.lastError === 'string' || view.lastError === null) t.lastError = view.lastError;
}

/**
 * Reads the reported failures a sweep settled one by one, for the lastError the listing does not carry. A
 * few reads at a time, within EXPLAIN_BUDGET_MS in all: a hung API must not hold up the report.
 */
export async function explainFailures(
  tracked: Iterable<Tracked>,
  o: { api: string; dispatcher: Dispatcher; clock: Clock; timeoutMs: number },
): Promise<void> {
  const until = o.clock.now() + EXPLAIN_BUDGET_MS;
  const unexplained = [...tracked]
    .filter((t) => !t.absent && t.terminal && t.status === 'failed')
    .slice(0, LIST_LIMIT)
    .filter((t) => t.settledBy === 'sweep');
  const reader = async () => {
    for (let t = unexplained.shift(); t !== undefined; t = unexplained.shift()) {
      const left = until - o.clock.now();
      if (left <= 0) return;
      const { view } = await readTransaction(o, t.id, Math.min(o.timeoutMs, left));
      if (typeof view?.lastError === 'string') t.lastError = view.lastError;
    }
  };
  await Promise.all(Array.from({ length: EXPLAIN_READERS }, reader));
}
