import { setTimeout as sleep } from 'node:timers/promises';
import { createPostingClient, type PostingClient, type PostingRecord } from '../posting/posting-client';
import { PostingError } from '../posting/posting-error';
import type { DownstreamRow, DownstreamView } from './compare';
import { storedContent } from '../posting/content';
import { pool } from './pool';
import type { Progress } from './txflow-side';

/** GETs only: the amount format does not matter. */
export function readOnlyPostingClient(
  baseUrl: string,
  timeoutMs: number,
  concurrency: number,
): PostingClient {
  return createPostingClient({ baseUrl, timeoutMs, amountFormat: 'string', connections: concurrency });
}

const ATTEMPTS = 3;

/** A GET retried twice on an unavailable answer (a 5xx, a timeout): reading is safe to repeat. */
async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof PostingError) || err.kind === 'rejected' || attempt >= ATTEMPTS) throw err;
      await sleep(250 * attempt);
    }
  }
}

/** The row's own write time, when the service gives one (`createdAt`, `created_at`). */
export function rowTime(record: PostingRecord): string | null {
  const value = record.createdAt ?? record.created_at;
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

function toRow(record: PostingRecord): DownstreamRow {
  return { id: record.id, createdAt: rowTime(record), content: storedContent(record) };
}

/**
 * What the downstream holds: its full list when it has `GET /transactions`, else (404) a GET per txflow ID
 * at `concurrency`.
 */
export async function readDownstream(
  posting: PostingClient,
  txflowIds: readonly string[],
  concurrency: number,
  progress: Progress = () => {},
): Promise<DownstreamView> {
  progress(0, 1);
  const listed = await withRetry(() => posting.list());
  if (listed !== null) {
    const rows = listed.rows.map(toRow);
    progress(1, 1);
    return { mode: 'list', rows, unreadable: listed.unreadable };
  }
  const held = new Map<string, DownstreamRow>();
  let done = 0;
  progress(0, txflowIds.length);
  await pool(txflowIds, concurrency, async (id) => {
    const record = await withRetry(() => posting.find(id));
    if (record !== null) held.set(id, toRow(record));
    progress(++done, txflowIds.length);
  });
  return { mode: 'per-id', held, checked: txflowIds.length };
}
