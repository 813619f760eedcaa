import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPostingActivities } from '../src/activities';
import type { LocalPostGuard, ProcessingState, Transaction } from '../src/domain/transaction';
import { CircuitBreaker } from '../src/posting/circuit-breaker';
import { createPostingClient, type PostingClient } from '../src/posting/posting-client';
import { fastPolicy, newTransaction } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { serverWork } from './support/server-work';
import { useWorkflowEnv } from './support/workflow-env';

/**
 * The first POST as a local activity in the run's first workflow task (policy.postLocally, decision 0026): a
 * fault-free transaction asks the server for one workflow task and no activity task. Its rules: whatever does
 * not end it goes on as the post activity, which looks first if a call was made; an unknown outcome waits the
 * write-settle window as any other. (A worker killed during a local POST: local-post-crash.test.ts.)
 */
describe('the first POST as a local activity (real dev server, real worker, mock over HTTP)', function () {
  this.timeout(60_000);
  let capped = false;
  /** POSTs to answer 503 (which the worker's client knows wrote nothing) before the mock sees them. */
  let refusePosts = 0;
  /** GETs to let through, then GETs to answer 503. */
  let passGets = 0;
  let refuseGets = 0;
  const env = useWorkflowEnv({
    queuePrefix: 'local-post',
    worker: { capInForce: () => capped },
    onRequest: (req, res) => {
      if (req.method === 'GET' && passGets > 0) {
        passGets -= 1;
        return false;
      }
      const refuse = req.method === 'POST' ? refusePosts > 0 : refuseGets > 0;
      if (!refuse) return false;
      if (req.method === 'POST') refusePosts -= 1;
      else refuseGets -= 1;
      res.status(503).json({ error: 'not processed' });
      return true;
    },
  });
  beforeEach(function () {
    capped = false;
    refusePosts = 0;
    passGets = 0;
    refuseGets = 0;
    env.mock.store.clear();
    env.mock.faults.update({ preWriteFailureRate: 0, postWriteFailureRate: 0, getFailureRate: 0 });
  });

  const start = (tx: Transaction, overrides = {}) =>
    env.start(tx, fastPolicy({ checkLocally: true, postLocally: true, looksLocally: true, ...overrides }));

  it('fault-free: one workflow task, no activity task, one upsert; posted once', async function () {
    const tx = newTransaction();
    const handle = await start(tx);
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.equal(state.attempts, 2, 'the local GET and the local POST, each counted');
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.deepEqual(env.mock.store.stats().requests, {
      ...env.mock.store.stats().requests,
      get: 1,
      post: 1,
    });
    const work = await serverWork(handle);
    assert.deepEqual(work.activities, [], 'neither call is an activity task');
    assert.equal(work.markers, 2, 'the check and the POST are markers');
    assert.equal(work.workflowTasks, 1);
    assert.equal(work.upserts, 1, 'processing, posting and completed in one upsert');
    const described = await handle.describe();
    assert.equal(described.searchAttributes.TxStatus?.[0], 'completed');
    assert.equal(described.searchAttributes.TxPhase?.[0], 'done');
    assert.equal(described.searchAttributes.TxAttempts?.[0], 2);
  });

  it('under a posting rate cap nothing is local: the check and the POST go through the task queue', async function () {
    capped = true;
    const tx = newTransaction();
    const state: ProcessingState = await (await start(tx)).result();
    assert.equal(state.outcome, 'posted');
    assert.equal(state.attempts, 2, 'the deferrals are no attempts');
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('a local POST that wrote nothing (503): the post activity looks first, then posts once', async function () {
    refusePosts = 1;
    const tx = newTransaction();
    const handle = await start(tx);
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.equal(
      state.attempts,
      3,
      'the local GET, the local POST and the activity (its look is part of it)',
    );
    assert.equal(refusePosts, 0, 'the local POST was answered 503');
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.deepEqual(
      { ...env.mock.store.stats().requests },
      { ...env.mock.store.stats().requests, get: 2, post: 1 },
      'the check, then the post activity: a GET before its POST',
    );
    assert.deepEqual((await serverWork(handle)).activities, ['postTransaction']);
  });

  /** Every POST written, then answered 500 (an unknown outcome): the run must find it, not post again. */
  async function foundAfterUnknownOutcome(writeSettleMs: number) {
    env.mock.faults.update({ postWriteFailureRate: 1 });
    const tx = newTransaction();
    const handle = await start(tx, { writeSettleMs });
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'already_present');
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.equal(env.mock.store.stats().requests.post, 1, 'posted once');
    return { state, work: await serverWork(handle) };
  }

  it('a local POST of unknown outcome (written, then a 500): no re-POST, found by a look, completed', async function () {
    const { work } = await foundAfterUnknownOutcome(3_000);
    assert.equal(env.mock.store.stats().requests.get, 2, 'the check and the early look');
    // The early look runs locally in the task its timer woke (decision 0027): no activity task at all.
    assert.deepEqual(work.activities, [], 'the check, the POST and the early look: all local');
    assert.equal(work.timers, 1, 'only the timer to the early look, which found it');
  });

  it('an early look that gets no answer locally goes on through the task queue, whose retry finds the write', async function () {
    passGets = 1; // the check
    refuseGets = 1; // the local early look
    const { state, work } = await foundAfterUnknownOutcome(20_000);
    // Not the next early look 5 s into the window: the look activity, retried, found it first.
    assert.deepEqual(work.activities, ['checkExists'], 'the early look, on through the task queue');
    assert.equal(work.timers, 1, 'only the timer to the first early look');
    assert.equal(
      state.lastError?.includes('503'),
      false,
      `an early look leaves no error: ${state.lastError}`,
    );
  });

  it('a local early look that ran out of the window is not tried again through the task queue', async function () {
    // Every GET takes 1.5 s: the early look, 1 s into a 2 s window, times out at the window's end.
    env.mock.faults.update({ getLatencyMs: { min: 1_500, max: 1_500 } });
    try {
      const { work } = await foundAfterUnknownOutcome(2_000);
      assert.deepEqual(work.activities, ['checkExists'], 'only the look after the window');
    } finally {
      env.mock.faults.update({ getLatencyMs: { min: 0, max: 0 } });
    }
  });

  it('an early look with a rate cap in force goes through the task queue, and still ends the window', async function () {
    capped = true;
    const { work } = await foundAfterUnknownOutcome(20_000);
    // The cap limits activity tasks only: every call goes through them, the early look too.
    assert.deepEqual(work.activities, ['checkExists', 'postTransaction', 'checkExists']);
    assert.equal(work.timers, 1, 'no timer to the end of the 20 s window: the early look found the write');
  });
});

describe('postTransaction as a local activity: what it refuses to send', function () {
  let mock: RunningMock;
  let posting: PostingClient;
  before(async function () {
    mock = await startMock();
    posting = createPostingClient({ baseUrl: mock.url, timeoutMs: 1_000, amountFormat: 'number' });
  });
  after(async function () {
    await posting?.close();
    await mock?.stop();
  });

  const local = (capInForce = false, breaker?: CircuitBreaker) => {
    const activityEnv = new MockActivityEnvironment(
      {
        isLocal: true,
        attempt: 1,
        scheduledTimestampMs: Date.now(),
        currentAttemptScheduledTimestampMs: Date.now(),
        scheduleToCloseTimeoutMs: 60_000,
        startToCloseTimeoutMs: 3_000,
      },
      { logger: new DefaultLogger('ERROR') },
    );
    const { postTransaction } = createPostingActivities(posting, breaker, () => capInForce);
    return (tx: Transaction, guard?: LocalPostGuard) => activityEnv.run(postTransaction, tx, 0, guard);
  };
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  };
  const inTime = (): LocalPostGuard => ({ sendBy: Date.now() + 4_000, replaying: false });
  const refusedGuards = (): [string, LocalPostGuard | undefined, RegExp][] => [
    ['replaying', { ...inTime(), replaying: true }, /later try/],
    ['late', { sendBy: Date.now() - 1, replaying: false }, /past its time/],
    ['unguarded', undefined, /no guard/],
  ];

  it("a local early look's GET ends within the local activity's time, as its failure", async function () {
    // Slower than the look's limit (its time less a margin), faster than the client's own timeout.
    mock.faults.update({ getLatencyMs: { min: 700, max: 700 } });
    try {
      const activityEnv = new MockActivityEnvironment(
        { isLocal: true, attempt: 1, startToCloseTimeoutMs: 800 },
        { logger: new DefaultLogger('ERROR') },
      );
      const { checkExists } = createPostingActivities(posting, undefined, () => false);
      const err = await refusal(activityEnv.run(checkExists, 'tx-slow', undefined));
      assert.match(err.message, /no answer within 500 ms/);
    } finally {
      mock.faults.update({ getLatencyMs: { min: 0, max: 0 } });
    }
  });

  it('sends in time on the first try of its workflow task', async function () {
    const tx = newTransaction();
    assert.deepEqual(await local()(tx, inTime()), { outcome: 'posted', attempt: 1 });
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('on replay (a later try of its task), late, or unguarded: nothing sent, LocalPostNotSent', async function () {
    const before = mock.store.stats().requests.post;
    for (const [name, guard, why] of refusedGuards()) {
      const err = await refusal(local()(newTransaction(), guard));
      assert.equal(err.type, 'LocalPostNotSent', name);
      assert.equal(err.nonRetryable, true, name);
      assert.match(err.message, why, name);
      assert.deepEqual(err.details, [{ attempt: 0, status: null }], 'no call made');
    }
    assert.equal(mock.store.stats().requests.post, before, 'no POST reached the service');
  });

  // Review of issue 16: a deferral or a pause means "no call made" and lets the post activity post without a look;
  // a later try's local POST must say "maybe sent" whatever the cap or the breaker.
  it('the refusal wins over a rate cap and an open breaker', async function () {
    const options = {
      failureRatio: 0.5,
      windowMs: 60_000,
      minCalls: 1,
      probeIntervalMs: 60_000,
      maxPauseMs: 60_000,
    };
    // Opened by a failed POST; its probe (never due in this test) would say the service is still down.
    const breaker = new CircuitBreaker(options, async () => false);
    breaker.record(false, { message: 'down', kind: 'unavailable' }, 'post');
    try {
      for (const [name, guard] of refusedGuards()) {
        assert.equal((await refusal(local(true)(newTransaction(), guard))).type, 'LocalPostNotSent', name);
        const paused = local(false, breaker)(newTransaction(), guard);
        assert.equal((await refusal(paused)).type, 'LocalPostNotSent', name);
      }
      const inTimePaused = local(false, breaker)(newTransaction(), inTime());
      assert.equal((await refusal(inTimePaused)).type, 'DownstreamUnhealthy', 'the breaker is open');
    } finally {
      breaker.close();
    }
  });

  it('under a posting rate cap: deferred, nothing sent', async function () {
    const before = mock.store.stats().requests.post;
    const err = await refusal(local(true)(newTransaction(), inTime()));
    assert.equal(err.type, 'CheckDeferredToCap');
    assert.match(err.message, /the POST goes through the task queue/);
    assert.equal(mock.store.stats().requests.post, before);
  });
});
