import assert from 'node:assert/strict';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import fc from 'fast-check';
import { createPostingActivities } from '../src/activities';
import { PostingError } from '../src/posting/posting-error';
import type { PostingClient, PostingRecord } from '../src/posting/posting-client';
import {
  POST_NON_RETRYABLE_TYPES,
  classifyPostFailure,
  earlyLooksMs,
  postExactlyOnce,
  settleDelayMs,
  type PostResult,
  type Verdict,
} from '../src/workflows/posting-protocol';
import { newTransaction } from './support/harness';

// A model of the posting protocol: the real activity code and the real protocol, against a simulated downstream
// on a virtual clock, under thousands of generated behaviours. Temporal's part (retry policy, timers) is modelled
// as its documentation says; test/workflow.test.ts and test/late-write.test.ts run the same on the real server.

const TIMEOUT_MS = 1_000;
const SETTLE_MS = 5_000;
const INITIAL_INTERVAL_MS = 500;
const MAX_INTERVAL_MS = 8_000;

/** What the downstream does with one POST. `writeAfterMs` counts from the moment the client gave up. */
type PostBehaviour =
  | { kind: 'store' }
  | { kind: 'notProcessed' }
  /** A service that breaks its word: stores, then answers 503 ("not processed"). */
  | { kind: 'notProcessedAfterWrite' }
  /** The worker shuts down mid-POST: the SDK aborts the request, whose write lands later. */
  | { kind: 'shutdownAbort'; writeAfterMs: number }
  | { kind: 'reject' }
  | { kind: 'refused' }
  /** Answers 500: written before the answer, or not at all. */
  | { kind: 'errorAfterWrite' }
  | { kind: 'errorNoWrite' }
  /** No answer in time: written before the client gave up, never, or after it (a late write). */
  | { kind: 'timeout'; write: 'before' | 'never' | 'late'; writeAfterMs: number }
  /** The worker stalls: Temporal times the attempt out while its POST is written, maybe late. */
  | { kind: 'attemptTimedOut'; write: 'before' | 'never' | 'late'; writeAfterMs: number }
  /** Answers 500 and writes later. */
  | { kind: 'errorThenLateWrite'; writeAfterMs: number };

interface Case {
  honoursKey: boolean;
  deadlineMs: number;
  posts: PostBehaviour[];
  /** Failed GETs before each look or retry answers. */
  getFailures: number[];
}

class Downstream {
  now = 0;
  /** When each stored row lands; a row counts once it has landed. */
  readonly rows: number[] = [];
  private posts: PostBehaviour[];
  private getFailures: number[];
  private failuresLeft: number;

  constructor(private readonly c: Case) {
    this.posts = [...c.posts];
    this.getFailures = [...c.getFailures];
    this.failuresLeft = this.getFailures.shift() ?? 0;
  }

  held = (): boolean => this.rows.some((t) => t <= this.now);
  private pending = (): boolean => this.rows.some((t) => t > this.now);

  readonly client: PostingClient = {
    find: async (id) => {
      this.now += 10;
      if (this.failuresLeft > 0) {
        this.failuresLeft -= 1;
        throw new PostingError('unavailable', 'GET: answered 502', 502);
      }
      this.failuresLeft = this.getFailures.shift() ?? 0;
      return this.held() ? ({ id, amount: '1.00', currency: 'EUR' } satisfies PostingRecord) : null;
    },
    post: async () => {
      const b = this.posts.shift() ?? { kind: 'store' };
      if (this.c.honoursKey && this.held()) return this.answer(200);
      if (this.c.honoursKey && this.pending()) return this.answer(409);
      return this.act(b);
    },
    list: async () => null,
    close: async () => undefined,
  };

  private answer(status: number): void {
    this.now += 5;
    if (status === 200) return;
    throw new PostingError('unknown', `POST: answered ${status}`, status);
  }

  private act(b: PostBehaviour): void {
    const sent = this.now;
    switch (b.kind) {
      case 'store':
        this.rows.push(sent + 5);
        return this.answer(200);
      case 'notProcessed':
        this.now += 5;
        throw new PostingError('not_written', 'POST: answered 503', 503);
      case 'notProcessedAfterWrite':
        this.rows.push(sent + 2);
        this.now += 5;
        throw new PostingError('not_written', 'POST: answered 503', 503);
      case 'shutdownAbort':
        this.rows.push(sent + 5 + b.writeAfterMs);
        this.now += 5;
        throw new CancelledFailure('WORKER_SHUTDOWN');
      case 'reject':
        this.now += 5;
        throw new PostingError('rejected', 'POST: answered 422', 422);
      case 'refused':
        throw new PostingError('not_written', 'POST: ECONNREFUSED');
      case 'errorAfterWrite':
        this.rows.push(sent + 2);
        return this.answer(500);
      case 'errorNoWrite':
        return this.answer(500);
      case 'errorThenLateWrite':
        this.rows.push(sent + 5 + b.writeAfterMs);
        return this.answer(500);
      case 'timeout':
      case 'attemptTimedOut':
        if (b.write === 'before') this.rows.push(sent + TIMEOUT_MS / 2);
        if (b.write === 'late') this.rows.push(sent + TIMEOUT_MS + b.writeAfterMs);
        this.now += TIMEOUT_MS;
        if (b.kind === 'attemptTimedOut')
          throw new TimeoutFailure('activity attempt timed out', undefined, TimeoutType.START_TO_CLOSE);
        throw new PostingError('unknown', `POST: no answer within ${TIMEOUT_MS} ms`);
    }
  }
}

const quiet = new DefaultLogger('ERROR');
const interval = (attempt: number) => Math.min(INITIAL_INTERVAL_MS * 2 ** (attempt - 1), MAX_INTERVAL_MS);

/** The post activity under its retry policy, as the Temporal server runs it. */
async function postActivity(d: Downstream, deadline: number): Promise<PostResult> {
  const { postTransaction } = createPostingActivities(d.client);
  const tx = newTransaction();
  for (let attempt = 1; ; attempt += 1) {
    let cause: Error;
    try {
      const env = new MockActivityEnvironment(
        { attempt, startToCloseTimeoutMs: 0, scheduleToCloseTimeoutMs: 0 },
        { logger: quiet },
      );
      const result = (await env.run(postTransaction, tx)) as Awaited<ReturnType<typeof postTransaction>>;
      return { kind: result.outcome === 'posted' ? 'posted' : 'found' };
    } catch (err) {
      cause = err as Error;
    }
    // As the SDK and server see it: a timed-out attempt by its timeout type, a cancelled one as WorkerShutdown.
    const type =
      cause instanceof ApplicationFailure
        ? cause.type
        : cause instanceof TimeoutFailure
          ? 'TemporalTimeout:StartToClose'
          : cause instanceof CancelledFailure
            ? 'WorkerShutdown'
            : cause.name;
    const final =
      (cause instanceof ApplicationFailure && cause.nonRetryable) ||
      (POST_NON_RETRYABLE_TYPES as readonly (string | null | undefined)[]).includes(type);
    const next = d.now + interval(attempt);
    if (final || next >= deadline) {
      const retryState = final ? RetryState.NON_RETRYABLE_FAILURE : RetryState.TIMEOUT;
      return {
        kind: classifyPostFailure(
          new ActivityFailure('failed', 'postTransaction', '1', retryState, 'w', cause),
        ),
      };
    }
    d.now = next;
  }
}

/** A check activity: GETs retried until they answer. */
async function look(d: Downstream): Promise<boolean> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (await d.client.find('tx')) !== null;
    } catch {
      d.now += interval(attempt);
    }
  }
}

/** An early look within the window: GETs retried until the window's end, where it gives up (found nothing). */
async function earlyLook(d: Downstream, windowEnd: number): Promise<boolean> {
  for (let attempt = 1; d.now < windowEnd; attempt += 1) {
    try {
      return (await d.client.find('tx')) !== null;
    } catch {
      d.now += interval(attempt);
    }
  }
  return false;
}

/** The window after the round-th unknown outcome, with the workflow's early looks on the way. */
async function settle(d: Downstream, round: number): Promise<boolean> {
  const start = d.now;
  const delay = settleDelayMs(SETTLE_MS, round);
  for (const at of earlyLooksMs(delay)) {
    d.now = Math.max(d.now, start + at);
    if (await earlyLook(d, start + delay)) return true;
  }
  d.now = Math.max(d.now, start + delay);
  return false;
}

async function run(c: Case): Promise<{ verdict: Verdict; rows: number }> {
  const d = new Downstream(c);
  const deadline = c.deadlineMs;
  let verdict: Verdict;
  if (await look(d)) verdict = { status: 'completed', outcome: 'already_present' };
  else {
    verdict = await postExactlyOnce({
      post: () => postActivity(d, deadline),
      settle: (round) => settle(d, round),
      look: () => look(d),
      pastDeadline: () => d.now >= deadline,
    });
  }
  return { verdict, rows: d.rows.length };
}

const within = fc.integer({ min: 0, max: SETTLE_MS });
const writeArb = fc.constantFrom('before' as const, 'never' as const, 'late' as const);
const behaviour = (lateMs: fc.Arbitrary<number>): fc.Arbitrary<PostBehaviour> =>
  fc.oneof(
    { arbitrary: fc.constant({ kind: 'store' as const }), weight: 2 },
    fc.constant({ kind: 'notProcessed' as const }),
    fc.constant({ kind: 'notProcessedAfterWrite' as const }),
    fc.record({ kind: fc.constant('shutdownAbort' as const), writeAfterMs: lateMs }),
    fc.constant({ kind: 'reject' as const }),
    fc.constant({ kind: 'refused' as const }),
    fc.constant({ kind: 'errorAfterWrite' as const }),
    fc.constant({ kind: 'errorNoWrite' as const }),
    fc.record({ kind: fc.constant('timeout' as const), write: writeArb, writeAfterMs: lateMs }),
    fc.record({ kind: fc.constant('attemptTimedOut' as const), write: writeArb, writeAfterMs: lateMs }),
    fc.record({ kind: fc.constant('errorThenLateWrite' as const), writeAfterMs: lateMs }),
  );
const caseArb = (lateMs: fc.Arbitrary<number>, honoursKey: fc.Arbitrary<boolean>): fc.Arbitrary<Case> =>
  fc.record({
    honoursKey,
    deadlineMs: fc.integer({ min: 1_000, max: 60_000 }),
    posts: fc.array(behaviour(lateMs), { maxLength: 8 }),
    getFailures: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 6 }),
  });

describe('the posting protocol, model-based (real activity and protocol code, simulated downstream)', function () {
  this.timeout(120_000);

  it('writes that land within the settle window: stored at most once, completed exactly when stored', async function () {
    await fc.assert(
      fc.asyncProperty(caseArb(within, fc.boolean()), async (c) => {
        const { verdict, rows } = await run(c);
        assert.ok(rows <= 1, `stored ${rows} times`);
        assert.equal(
          verdict.status === 'completed',
          rows === 1,
          `${JSON.stringify(verdict)} with ${rows} rows`,
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('a downstream that honours the key stores once however late a write lands (completion is then for reconcile)', async function () {
    await fc.assert(
      fc.asyncProperty(caseArb(fc.integer({ min: 0, max: 20 * SETTLE_MS }), fc.constant(true)), async (c) => {
        const { rows } = await run(c);
        assert.ok(rows <= 1, `stored ${rows} times`);
      }),
      { numRuns: 1_000 },
    );
  });

  it('a POST written before its error is found by the first early look: completed a second in, not after the window', async function () {
    const d = new Downstream({
      honoursKey: false,
      deadlineMs: 60_000,
      posts: [{ kind: 'errorAfterWrite' }],
      getFailures: [],
    });
    const verdict = await postExactlyOnce({
      post: () => postActivity(d, 60_000),
      settle: (round) => settle(d, round),
      look: () => look(d),
      pastDeadline: () => d.now >= 60_000,
    });
    assert.deepEqual(verdict, { status: 'completed', outcome: 'already_present' });
    assert.ok(d.now < SETTLE_MS, `ended at ${d.now} ms, the window is ${SETTLE_MS} ms`);
    assert.equal(d.rows.length, 1);
  });

  it('the model has teeth: without the settle window a late write is posted twice', async function () {
    const c: Case = {
      honoursKey: false,
      deadlineMs: 60_000,
      posts: [{ kind: 'timeout', write: 'late', writeAfterMs: 2_000 }],
      getFailures: [],
    };
    const d = new Downstream(c);
    const verdict = await postExactlyOnce({
      post: () => postActivity(d, c.deadlineMs),
      settle: async () => false, // no window
      look: () => look(d),
      pastDeadline: () => d.now >= c.deadlineMs,
    });
    d.now += 60_000;
    assert.equal(verdict.status, 'completed');
    assert.equal(d.rows.length, 2, 'the write landed after the look, and the re-POST stored a second row');
  });

  it('a rejection after an unknown outcome looks once more before failing', async function () {
    // The write lands just past the window, right after the look that ended it; the re-POST is refused as a
    // duplicate ID. Only a last look after the rejection sees the row.
    const { verdict, rows } = await run({
      honoursKey: false,
      deadlineMs: 60_000,
      posts: [{ kind: 'timeout', write: 'late', writeAfterMs: SETTLE_MS + 12 }, { kind: 'reject' }],
      getFailures: [],
    });
    assert.deepEqual(verdict, { status: 'completed', outcome: 'already_present' });
    assert.equal(rows, 1);
  });

  it('a downstream failing every POST for a day adds about 150 rounds to the history, not thousands', function () {
    let elapsed = 0;
    let rounds = 0;
    while (elapsed < 24 * 3_600_000) elapsed += settleDelayMs(30_000, ++rounds);
    assert.ok(rounds < 200, `${rounds} rounds`);
    assert.equal(settleDelayMs(30_000, 1), 30_000, 'the first wait is the window');
    assert.equal(settleDelayMs(30_000, 10), 30_000, 'and so are the first ten');
    assert.equal(settleDelayMs(30_000, 11), 60_000);
    assert.equal(settleDelayMs(30 * 60_000, 3), 30 * 60_000, 'a window longer than the cap is kept');
  });
});
