// What a scenario ends with: every accepted transaction in a terminal state (read through the API), held
// exactly once downstream (the mock's rows and /admin/stats), nothing held that was never accepted.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { MockStats } from '../mock/store';
import type { Cluster } from './cluster';
import type { TxRecord } from './load';

/** GET /api/transactions/:id, the fields the checks read. */
export interface TxView {
  transactionId: string;
  status: 'pending' | 'processing' | 'completed' | 'failed';
  attempts: number;
  lastError: string | null;
  outcome: 'posted' | 'already_present' | null;
  submittedAt: string;
  completedAt: string | null;
}

export interface Verification {
  /** Transactions answered 2xx. */
  accepted: number;
  completed: number;
  failed: number;
  /** Accepted, and not completed or failed when the wait ended. */
  pending: string[];
  /** Accepted, finished (or unknown to the API), and not held downstream. */
  lost: string[];
  /** Held downstream more than once. */
  duplicates: { id: string; copies: number }[];
  /** Held downstream although never answered 2xx. */
  unexpected: string[];
  /** Submitted but never answered 2xx (refused or given up). */
  notAccepted: string[];
  /** Completed with an outcome by kind (posted, already_present). */
  outcomes: Record<string, number>;
  /** Downstream calls per transaction (the API's `attempts`), as a histogram. */
  attempts: Record<string, number>;
  /** The mock's own counters at the end. */
  mock: MockStats;
  /** completedAt of the last transaction to finish (ms since epoch). */
  lastCompletedAt: number | null;
  waitedSeconds: number;
}

export interface VerifyOptions {
  /** How long accepted transactions get to reach a terminal state. */
  deadlineMs: number;
  log: (line: string) => void;
  /** A progress line this often while waiting. Default 3 s. */
  progressEveryMs?: number;
}

const TERMINAL = new Set(['completed', 'failed']);

export class Verifier {
  private readonly agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });
  /** The latest view of each transaction read. */
  readonly views = new Map<string, TxView>();

  // Only what it reads, so another topology (test/cluster.test.ts) can be verified the same way.
  constructor(private readonly cluster: Pick<Cluster, 'apiUrl' | 'mockRows' | 'mockStats'>) {}

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The transaction's view, null for a 404; throws on anything else (Temporal down: 503). */
  async view(id: string): Promise<TxView | null> {
    const res = await request(`${this.cluster.apiUrl}/api/transactions/${encodeURIComponent(id)}`, {
      dispatcher: this.agent,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    if (res.statusCode === 404) {
      await res.body.dump();
      return null;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`GET /api/transactions/${id}: ${res.statusCode}`);
    }
    const view = (await res.body.json()) as TxView;
    this.views.set(id, view);
    return view;
  }

  /** GET /api/health's body, whatever its status (null when the API does not answer). */
  async health(): Promise<Record<string, unknown> | null> {
    try {
      const res = await request(`${this.cluster.apiUrl}/api/health`, {
        dispatcher: this.agent,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      return (await res.body.json()) as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  /**
   * Waits until every accepted transaction is completed or failed (or the deadline), then compares with the
   * downstream. While many are open it watches the API's queue_depth instead of reading each one.
   */
  async verify(records: readonly TxRecord[], options: VerifyOptions): Promise<Verification> {
    const t0 = Date.now();
    const deadline = t0 + options.deadlineMs;
    const every = options.progressEveryMs ?? 3_000;
    const accepted = records.filter((r) => r.acceptedStatus !== null).map((r) => r.id);
    const open = new Set(accepted);
    const notFound = new Set<string>();
    let lastProgress = Date.now();
    let depth: number | null = null;
    for (;;) {
      // Many open: one health read instead of hundreds of GETs, until Temporal shows none running.
      if (open.size > 50) {
        const health = await this.health();
        depth = typeof health?.queue_depth === 'number' ? health.queue_depth : null;
      }
      if (open.size <= 50 || depth === 0) await this.readAll([...open], open, notFound);
      if (open.size === 0 || Date.now() >= deadline) break;
      if (Date.now() - lastProgress >= every) {
        lastProgress = Date.now();
        const running = open.size > 50 && depth !== null ? depth : open.size;
        options.log(
          `waiting: ${accepted.length - running}/${accepted.length} accepted transactions finished ` +
            `(${open.size > 50 && depth !== null ? 'queue depth' : 'read one by one'}, ${Math.round((Date.now() - t0) / 1000)} s)`,
        );
      }
      await sleep(open.size > 50 ? 1_000 : 300);
    }
    const waitedSeconds = Math.round((Date.now() - t0) / 100) / 10;
    options.log(
      open.size === 0
        ? `all ${accepted.length} accepted transactions finished (waited ${waitedSeconds} s)`
        : `${open.size} of ${accepted.length} still open after ${waitedSeconds} s`,
    );

    const rows = await this.cluster.mockRows();
    const mock = await this.cluster.mockStats();
    const copies = new Map<string, number>();
    for (const row of rows) copies.set(row.id, (copies.get(row.id) ?? 0) + 1);
    const acceptedSet = new Set(accepted);
    const lost: string[] = [];
    const pending: string[] = [];
    const outcomes: Record<string, number> = {};
    const attempts: Record<string, number> = {};
    let completed = 0;
    let failed = 0;
    let lastCompletedAt: number | null = null;
    for (const id of accepted) {
      const view = this.views.get(id);
      const held = copies.get(id) ?? 0;
      if (notFound.has(id)) {
        if (held === 0) lost.push(id);
        continue;
      }
      if (!view || !TERMINAL.has(view.status)) {
        pending.push(id);
        continue;
      }
      if (view.status === 'completed') completed++;
      else failed++;
      if (held === 0) lost.push(id);
      if (view.outcome) outcomes[view.outcome] = (outcomes[view.outcome] ?? 0) + 1;
      attempts[String(view.attempts)] = (attempts[String(view.attempts)] ?? 0) + 1;
      const done = view.completedAt ? Date.parse(view.completedAt) : NaN;
      if (Number.isFinite(done)) lastCompletedAt = Math.max(lastCompletedAt ?? 0, done);
    }
    return {
      accepted: accepted.length,
      completed,
      failed,
      pending,
      lost,
      duplicates: [...copies].filter(([, n]) => n > 1).map(([id, n]) => ({ id, copies: n })),
      unexpected: [...copies.keys()].filter((id) => !acceptedSet.has(id)),
      notAccepted: records.filter((r) => r.acceptedStatus === null).map((r) => r.id),
      outcomes,
      attempts,
      mock,
      lastCompletedAt,
      waitedSeconds,
    };
  }

  /** Reads `ids` (8 at a time); drops from `open` those that finished or that the API does not know. */
  private async readAll(ids: string[], open: Set<string>, notFound: Set<string>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        try {
          const view = await this.view(id);
          if (view === null) {
            notFound.add(id);
            open.delete(id);
          } else if (TERMINAL.has(view.status)) {
            open.delete(id);
          }
        } catch {
          // Temporal or the API is down right now: read it again next round.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }
}
