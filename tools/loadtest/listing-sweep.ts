import { request, type Dispatcher } from 'undici';
import { errorCode } from '../shared/error-code';
import { answerKey } from './submitter';

/** The final statuses, as `GET /api/transactions?status=` names them. */
export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;

/** One listed transaction that has reached a final status. */
export interface ListedFinal {
  id: string;
  status: string;
  submittedAt: string | null;
  completedAt: string;
}

export interface ListingSweepOptions {
  api: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** Only transactions started at or after this instant are listed: the run's start, minus clock skew. */
  from: Date;
  /** Items per page (the API allows up to 1000). */
  pageSize?: number;
  /**
   * A sweep reads each status newest first down to this long before the newest item the previous sweep
   * saw; older ones were read then. The overlap covers visibility's lag and items that closed out of order.
   */
  overlapMs?: number;
}

export type SweepOutcome =
  | { kind: 'done' }
  /** The target has no listing (404, 405, 501, or not its shape): per-ID polls only. */
  | { kind: 'unsupported'; reason: string }
  /** This sweep failed (5xx, timeout...): try again later. */
  | { kind: 'failed'; reason: string };

interface Page {
  items: unknown[];
  next_cursor: unknown;
}

/** Statuses that say the target has no such endpoint, rather than that it is in trouble. */
const UNSUPPORTED = new Set([404, 405, 501]);

/**
 * Learns final statuses in bulk from `GET /api/transactions?status=&from=&limit=&cursor=` (Temporal
 * visibility: one query per page, not a describe and a query per transaction). Each status is read newest
 * first (the listing's order is by close time) and only down to what the previous sweep already read, plus
 * an overlap; `full` reads everything. The listing is eventually consistent: what is not listed yet shows
 * up in a later sweep.
 */
export class ListingSweep {
  readonly #o: Required<ListingSweepOptions>;
  #statuses: string[] = [...FINAL_STATUSES];
  /** Per status, the newest completedAt (API clock, epoch ms) read by a sweep that joined up with earlier ones. */
  readonly #newest = new Map<string, number>();
  /** Cleared when the listing turns out not to be in close-time order: then every sweep reads everything. */
  #ordered = true;
  #pages = 0;
  #listed = 0;
  readonly #answers = new Map<string, number>();

  constructor(options: ListingSweepOptions) {
    this.#o = { pageSize: 1000, overlapMs: 30_000, ...options };
  }

  get pages(): number {
    return this.#pages;
  }

  /** Items read, of any run. */
  get listed(): number {
    return this.#listed;
  }

  /** Answers to the listing requests, by status code or network:<code>. */
  answers(): Record<string, number> {
    return Object.fromEntries(this.#answers);
  }

  /**
   * One sweep: every final item goes to `onFinal` (the caller keeps what it tracks). Stops early once
   * `wanted()` is false (nothing left to learn).
   */
  async sweep(
    onFinal: (item: ListedFinal) => void,
    full: boolean,
    wanted: () => boolean,
  ): Promise<SweepOutcome> {
    for (const status of [...this.#statuses]) {
      const outcome = await this.#sweepStatus(status, onFinal, full, wanted);
      if (outcome.kind !== 'done') return outcome;
      if (!wanted()) break;
    }
    return { kind: 'done' };
  }

  async #sweepStatus(
    status: string,
    onFinal: (item: ListedFinal) => void,
    full: boolean,
    wanted: () => boolean,
  ): Promise<SweepOutcome> {
    const before = this.#newest.get(status);
    const floor = full || !this.#ordered || before === undefined ? -Infinity : before - this.#o.overlapMs;
    let newest = before ?? -Infinity;
    let previous = Infinity;
    let cursor: string | null = null;
    for (let first = true; first || cursor !== null; first = false) {
      if (!wanted()) return { kind: 'done' }; // newest stays: what lies below was not read
      const answer = await this.#page(status, cursor);
      if (answer.kind === 'refused' && first) {
        // This API does not know the status (an older txflow without "cancelled"): sweep the others.
        this.#statuses = this.#statuses.filter((s) => s !== status);
        if (this.#statuses.length > 0) return { kind: 'done' };
        return { kind: 'unsupported', reason: answer.reason };
      }
      if (answer.kind === 'refused') return { kind: 'failed', reason: answer.reason };
      if (answer.kind !== 'page') return answer;
      let oldest = Infinity;
      for (const raw of answer.page.items) {
        const item = finalItem(raw);
        if (item === null) continue; // not closed yet (its TxStatus is set just before the run closes)
        const closed = Date.parse(item.completedAt);
        if (closed > previous) this.#ordered = false;
        previous = closed;
        oldest = Math.min(oldest, closed);
        newest = Math.max(newest, closed);
        onFinal(item);
      }
      const next = typeof answer.page.next_cursor === 'string' ? answer.page.next_cursor : null;
      // A listing that ignores the cursor would be read forever.
      if (next !== null && next === cursor)
        return { kind: 'failed', reason: 'the listing gave the same cursor again' };
      cursor = next;
      if (this.#ordered && oldest < floor) break; // joined up with what earlier sweeps read
    }
    if (newest > -Infinity) this.#newest.set(status, newest);
    return { kind: 'done' };
  }

  async #page(
    status: string,
    cursor: string | null,
  ): Promise<
    | { kind: 'page'; page: Page }
    | { kind: 'refused'; reason: string }
    | Exclude<SweepOutcome, { kind: 'done' }>
  > {
    const { api, dispatcher, timeoutMs, from, pageSize } = this.#o;
    const query = new URLSearchParams({ status, from: from.toISOString(), limit: String(pageSize) });
    if (cursor !== null) query.set('cursor', cursor);
    const url = `${api}/api/transactions?${query.toString()}`;
    let key: string;
    let body: unknown;
    try {
      const res = await request(url, { dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      key = String(res.statusCode);
      if (res.statusCode === 200) body = await res.body.json().catch(() => undefined);
      else await res.body.dump();
    } catch (err) {
      key = answerKey({ status: null, error: errorCode(err) });
    }
    this.#answers.set(key, (this.#answers.get(key) ?? 0) + 1);
    const reason = `GET /api/transactions?status=${status} answered ${key}`;
    if (UNSUPPORTED.has(Number(key))) return { kind: 'unsupported', reason };
    if (key === '400') return { kind: 'refused', reason };
    if (key !== '200') return { kind: 'failed', reason };
    this.#pages++;
    if (!isPage(body)) return { kind: 'unsupported', reason: `${reason} without items and next_cursor` };
    this.#listed += body.items.length;
    return { kind: 'page', page: body };
  }
}

function isPage(body: unknown): body is Page {
  return (
    typeof body === 'object' && body !== null && Array.isArray((body as Page).items) && 'next_cursor' in body
  );
}

/** An item of the listing with a final status and a close time, or null. */
function finalItem(raw: unknown): ListedFinal | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { transactionId, status, submittedAt, completedAt } = raw as Record<string, unknown>;
  if (typeof transactionId !== 'string' || typeof status !== 'string') return null;
  if (!(FINAL_STATUSES as readonly string[]).includes(status)) return null;
  if (typeof completedAt !== 'string' || Number.isNaN(Date.parse(completedAt))) return null;
  return {
    id: transactionId,
    status,
    submittedAt: typeof submittedAt === 'string' ? submittedAt : null,
    completedAt,
  };
}
