import { setTimeout as sleep } from 'node:timers/promises';
import type { IdempotencyMode } from '../../mock/config';
import type { Cluster } from '../cluster';
import type { Context, Scenario } from '../scenario';
import { loadScenario } from './common';

const POSTING_TIMEOUT_MS = 1_000;
const LATE_WRITE_MS = 3_000;
const LATE_WRITE_RATE = 0.3;

interface Variant {
  name: string;
  description: string;
  idempotency: IdempotencyMode;
  /** POSTING_WRITE_SETTLE_MS: how long a transaction waits after an unknown outcome before it looks again. */
  settleMs: number;
}

/**
 * 30% of the writes land 3 s after they arrived, whether or not the worker is still waiting; the worker gives
 * up on a POST after 1 s. A GET in between answers 404: a worker that looks at once and POSTs again stores
 * the transaction twice. The scenario waits for every late write to land before it compares the downstream,
 * and fails on any ID held twice.
 */
function lateWriteVariant(v: Variant): Scenario {
  return loadScenario({
    name: v.name,
    description: v.description,
    // test/chaos.test.ts runs every inTest scenario: without the settle window (or the key) this one finds
    // duplicates (12 of 40 IDs held twice at small size before the window): the proof that it models the failure.
    inTest: true,
    sizes: {
      small: { count: 40, rate: 10 },
      full: { count: 300, rate: 15 },
    },
    cluster: {
      faults: { lateWriteRate: LATE_WRITE_RATE, lateWriteMs: LATE_WRITE_MS, idempotency: v.idempotency },
      workerEnv: {
        POSTING_TIMEOUT_MS: String(POSTING_TIMEOUT_MS),
        POSTING_WRITE_SETTLE_MS: String(v.settleMs),
      },
      // The window travels in each transaction's policy, which the API builds from its own env.
      apiEnv: {
        POSTING_TIMEOUT_MS: String(POSTING_TIMEOUT_MS),
        POSTING_WRITE_SETTLE_MS: String(v.settleMs),
      },
    },
    // The fault is the mock's own, set above: nothing to do while the load goes out.
    fault: () => Promise.resolve(),
    settle: (ctx) => allLateWritesLanded(ctx, LATE_WRITE_MS + 15_000),
    judge({ run }, { verification }) {
      const m = verification.mock;
      const late = m.lateWrites;
      const byKey = m.idempotency;
      Object.assign(run.details, {
        postingTimeoutMs: POSTING_TIMEOUT_MS,
        writeSettleMs: v.settleMs,
        lateWriteMs: LATE_WRITE_MS,
        lateWriteRate: LATE_WRITE_RATE,
        idempotency: v.idempotency,
        lateWrites: late,
        keyAnswers: byKey,
        postRequests: m.requests.post,
        getRequests: m.requests.get,
        rowsStored: m.posts,
        distinctIds: m.distinctIds,
        duplicatedIds: verification.duplicates.length,
        duplicateSample: verification.duplicates.slice(0, 10),
        attempts: verification.attempts,
        outcomes: verification.outcomes,
      });
      run.check(
        'writes landed late',
        late.started > 0 && late.landed === late.started,
        `${late.started} writes started late, ${late.landed} landed (${LATE_WRITE_MS} ms after arrival)`,
      );
      run.check(
        'late writes landed after the worker had given up on them',
        late.unanswered > 0,
        `${late.unanswered} landed with the worker gone (its timeout: ${POSTING_TIMEOUT_MS} ms)`,
      );
      if (v.idempotency === 'honour') {
        run.check(
          'the mock settled repeated POSTs by their Idempotency-Key',
          byKey.inProgress + byKey.replayed > 0,
          `${byKey.inProgress} answered 409 (in progress), ${byKey.replayed} replayed, ${byKey.mismatched} 422`,
        );
      }
      return {
        faults: `${late.started} late writes (${late.unanswered} after the worker gave up)`,
        faultEndedAt: null,
      };
    },
  });
}

/** Keys ignored: only the worker's settle window (longer than the late writes) prevents a second row. */
export const lateWrite = lateWriteVariant({
  name: 'late-write',
  description: "30% of the downstream writes land 3 s late, past the client's 1 s timeout; keys ignored",
  idempotency: 'ignore',
  settleMs: 6_000,
});

/**
 * Keys honoured, and a settle window as short as allowed (the timeout): the worker looks and POSTs again while
 * writes are still pending, so only the Idempotency-Key prevents a second row (409 while the write is pending,
 * the row replayed once it landed).
 */
export const lateWriteKeys = lateWriteVariant({
  name: 'late-write-keys',
  description: "30% of the downstream writes land 3 s late, past the client's 1 s timeout; keys honoured",
  idempotency: 'honour',
  settleMs: POSTING_TIMEOUT_MS,
});

/** Waits until every late write that started has landed (the mock's counters), or the time is up. */
async function allLateWritesLanded({ run, cluster }: Context, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let waiting = await stillWaiting(cluster);
  if (waiting > 0) run.log(`waiting for ${waiting} late writes to land before comparing the downstream`);
  while (waiting > 0 && Date.now() < end) {
    await sleep(250);
    waiting = await stillWaiting(cluster);
  }
  if (waiting > 0) run.log(`${waiting} late writes still waiting after ${timeoutMs} ms`);
}

async function stillWaiting(cluster: Cluster): Promise<number> {
  const { lateWrites } = await cluster.mockStats();
  return lateWrites.started - lateWrites.landed;
}
