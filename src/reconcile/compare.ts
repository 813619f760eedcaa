import type { TransactionStatus } from '../domain/transaction';
import { rowsDiffering, type ContentField, type PostedContent, type StoredContent } from '../posting/content';

/** One transaction as txflow's side sees it (its latest run). */
export interface TxflowTransaction {
  id: string;
  status: TransactionStatus;
  /** ISO 8601. */
  startTime: string;
  closeTime: string | null;
  /** What txflow posts for it, from its memo; null when the memo holds none (nothing to compare rows with). */
  content: PostedContent | null;
}

/** One stored row downstream; createdAt when the service gives one (the mock's `createdAt`). */
export interface DownstreamRow {
  id: string;
  createdAt: string | null;
  content: StoredContent;
}

/**
 * What the downstream holds: every row (its list endpoint), or, without one, which of txflow's IDs a
 * per-ID GET found (then rows unknown to txflow and duplicates cannot be seen).
 */
export type DownstreamView =
  | { mode: 'list'; rows: readonly DownstreamRow[]; unreadable: number }
  | { mode: 'per-id'; held: ReadonlyMap<string, DownstreamRow>; checked: number };

export interface Range {
  from: Date;
  to: Date;
}

export interface CompareInput {
  range: Range;
  now: Date;
  graceMs: number;
  /** txflow's transactions started in the range, by ID. */
  txflow: ReadonlyMap<string, TxflowTransaction>;
  downstream: DownstreamView;
  /**
   * Downstream IDs outside `txflow` that were looked up in Temporal one by one (see idsToLookUp): the
   * transaction, or null when Temporal has no such transaction.
   */
  lookedUp: ReadonlyMap<string, TxflowTransaction | null>;
}

export type TxflowSideStatus = TransactionStatus | 'unknown';

export interface MissingDownstream {
  id: string;
  startTime: string;
  closeTime: string | null;
}

export interface HeldDownstream {
  id: string;
  /** 'unknown': Temporal has no such transaction. */
  txflowStatus: TxflowSideStatus;
  /** Rows downstream (1 in per-ID mode, where copies cannot be counted). */
  copies: number;
  startTime: string | null;
}

export interface ContentMismatch {
  id: string;
  txflowStatus: TransactionStatus;
  /** The posted fields some stored row holds another value of. */
  fields: ContentField[];
  /** Rows that differ, of `copies`. */
  rows: number;
  copies: number;
  startTime: string;
}

export interface CompareResult {
  /** Completed in txflow, no row downstream. */
  missingDownstream: MissingDownstream[];
  /** Held downstream, not completed in txflow: unknown there, failed, cancelled, or open past the grace. */
  notCompletedInTxflow: HeldDownstream[];
  /** Held downstream more than once, whatever txflow says. */
  duplicates: HeldDownstream[];
  /** Stored with another amount, currency or account than txflow posts for it, whatever its status. */
  contentDiffers: ContentMismatch[];
  /** Pending or processing in txflow, already held downstream, started within the grace: not a mismatch. */
  inFlight: HeldDownstream[];
  counts: {
    txflow: Record<TransactionStatus, number> & { total: number };
    /** Completed in txflow and held downstream, every row as txflow posts it. */
    matched: number;
    /** Pending or processing in txflow and not (yet) held downstream: not a mismatch. */
    open: number;
    /** Downstream IDs that belong to transactions outside the range (by start time or row time). */
    outOfRange: number;
    /** Distinct IDs in any mismatch category (one both failed and duplicated counts once). */
    mismatches: number;
  };
}

const OPEN: ReadonlySet<TxflowSideStatus> = new Set(['pending', 'processing']);

const inRange = (iso: string, range: Range) => {
  const t = Date.parse(iso);
  return t >= range.from.getTime() && t <= range.to.getTime();
};

/** Rows per ID, in first-seen order. */
export function copiesById(rows: readonly DownstreamRow[]): Map<string, DownstreamRow[]> {
  const byId = new Map<string, DownstreamRow[]>();
  for (const row of rows) {
    const list = byId.get(row.id);
    if (list) list.push(row);
    else byId.set(row.id, [row]);
  }
  return byId;
}

/**
 * Downstream IDs txflow's range listing does not have, that may still be txflow's and in the range: a row
 * written before `from` belongs to a transaction started before it (txflow posts after the start), one
 * written after `to` to one started after it (or to none, which is then outside the range too). Rows with
 * no time of their own are always looked up.
 */
export function idsToLookUp(
  txflow: ReadonlyMap<string, TxflowTransaction>,
  downstream: DownstreamView,
  range: Range,
): string[] {
  if (downstream.mode !== 'list') return [];
  const ids: string[] = [];
  for (const [id, rows] of copiesById(downstream.rows)) {
    if (txflow.has(id)) continue;
    if (rows.some((row) => row.createdAt === null || inRange(row.createdAt, range))) ids.push(id);
  }
  return ids;
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The reconciliation itself: no I/O, every input given. */
export function compare(input: CompareInput): CompareResult {
  const { range, now, graceMs, downstream } = input;
  const result = emptyResult();

  // Transactions in the range: the listing, plus any a lookup found in the range (a listing is eventually
  // consistent; a lookup is not).
  const txflow = new Map(input.txflow);
  for (const tx of input.lookedUp.values()) {
    if (tx && !txflow.has(tx.id) && inRange(tx.startTime, range)) txflow.set(tx.id, tx);
  }
  const rowsOf = rowLookup(downstream);
  const held = (id: string, status: TxflowSideStatus, startTime: string | null): HeldDownstream => ({
    id,
    txflowStatus: status,
    copies: rowsOf(id).length,
    startTime,
  });

  for (const tx of txflow.values()) {
    result.counts.txflow.total += 1;
    result.counts.txflow[tx.status] += 1;
    const item = held(tx.id, tx.status, tx.startTime);
    const { copies } = item;
    if (copies > 1) result.duplicates.push(item);
    const differing = tx.content && rowsDiffering(tx.content, rowsOf(tx.id));
    if (differing) {
      const { id, status: txflowStatus, startTime } = tx;
      result.contentDiffers.push({ id, txflowStatus, ...differing, copies, startTime });
    }
    if (tx.status === 'completed') {
      if (copies === 0) {
        result.missingDownstream.push({ id: tx.id, startTime: tx.startTime, closeTime: tx.closeTime });
      } else if (!differing) {
        result.counts.matched += 1;
      }
      continue;
    }
    if (copies === 0) {
      if (OPEN.has(tx.status)) result.counts.open += 1;
      continue;
    }
    const withinGrace = now.getTime() - Date.parse(tx.startTime) <= graceMs;
    if (OPEN.has(tx.status) && withinGrace) result.inFlight.push(item);
    else result.notCompletedInTxflow.push(item);
  }

  if (downstream.mode === 'list') {
    for (const id of copiesById(downstream.rows).keys()) {
      if (txflow.has(id)) continue;
      const found = input.lookedUp.get(id);
      if (found === null) {
        const item = held(id, 'unknown', null);
        result.notCompletedInTxflow.push(item);
        if (item.copies > 1) result.duplicates.push(item);
      } else {
        // Not looked up (its rows were written outside the range), or a transaction started outside it.
        result.counts.outOfRange += 1;
      }
    }
  }
  return finish(result);
}

function emptyResult(): CompareResult {
  return {
    missingDownstream: [],
    notCompletedInTxflow: [],
    duplicates: [],
    contentDiffers: [],
    inFlight: [],
    counts: {
      txflow: { total: 0, pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 },
      matched: 0,
      open: 0,
      outOfRange: 0,
      mismatches: 0,
    },
  };
}

/** An ID's stored rows, whichever way the downstream was read (per ID: the one row a GET answers). */
function rowLookup(downstream: DownstreamView): (id: string) => readonly DownstreamRow[] {
  if (downstream.mode === 'per-id') {
    return (id) => {
      const row = downstream.held.get(id);
      return row ? [row] : [];
    };
  }
  const rows = copiesById(downstream.rows);
  return (id) => rows.get(id) ?? [];
}

/** Each category by ID, and the distinct IDs in any mismatch category. */
function finish(result: CompareResult): CompareResult {
  result.missingDownstream.sort(byId);
  result.notCompletedInTxflow.sort(byId);
  result.duplicates.sort(byId);
  result.contentDiffers.sort(byId);
  result.inFlight.sort(byId);
  result.counts.mismatches = new Set(
    [
      ...result.missingDownstream,
      ...result.notCompletedInTxflow,
      ...result.duplicates,
      ...result.contentDiffers,
    ].map((m) => m.id),
  ).size;
  return result;
}
