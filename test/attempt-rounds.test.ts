import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, type RetryPolicy } from '@temporalio/common';
import type { ProcessingState, Transaction } from '../src/domain/transaction';
import { processTransaction } from '../src/workflows';
import { AttemptRounds, roundSize } from '../src/workflows/attempt-rounds';
import { visibilityQuery } from '../src/api/transactions/list-query';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';

const failure = (retryState: ActivityFailure['retryState']) =>
  new ActivityFailure(
    'failed',
    'postTransaction',
    'post-1',
    retryState,
    undefined,
    new ApplicationFailure('503'),
  );

describe('attempt rounds: the rule (pure)', function () {
  const retry: RetryPolicy = { initialInterval: 100, backoffCoefficient: 2, maximumInterval: 1_000 };

  it('rounds of 3, 3, 6, 12 attempts; the backoff goes on across rounds as one policy would', function () {
    assert.deepEqual([1, 2, 3, 4, 5].map(roundSize), [3, 3, 6, 12, 24]);
    const rounds = new AttemptRounds({ ...retry, nonRetryableErrorTypes: ['PostingRejected'] });
    const first = rounds.next();
    assert.deepEqual(first, { ...retry, nonRetryableErrorTypes: ['PostingRejected'], maximumAttempts: 3 });
    // After attempts 1-3 (waits 100, 200 between them) the wait before attempt 4 is 400.
    assert.equal(rounds.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 3), 400);
    assert.equal(rounds.before, 3);
    const second = rounds.next();
    // Its own retries wait 800, then the maximum.
    assert.deepEqual([second.initialInterval, second.maximumAttempts], [800, 3]);
    assert.equal(rounds.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 3), 1_000);
    assert.equal(rounds.next().maximumAttempts, 6);
  });

  it('the configured maximum, a final error and the deadline end the step, not a round', function () {
    const limited = new AttemptRounds({ ...retry, maximumAttempts: 5 });
    assert.equal(limited.next().maximumAttempts, 3);
    assert.notEqual(limited.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 3), undefined);
    assert.equal(limited.next().maximumAttempts, 2, 'what is left of the 5');
    assert.equal(limited.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 2), undefined);

    const rounds = new AttemptRounds(retry);
    rounds.next();
    assert.equal(rounds.ended(failure('NON_RETRYABLE_FAILURE'), 1), undefined);
    assert.equal(rounds.ended(failure('TIMEOUT'), 2), undefined);
    assert.equal(rounds.ended(new Error('not an activity'), 0), undefined);
    assert.equal(rounds.before, 3, 'their attempts still count');
  });

  it('a round that ran out made all its attempts, though timed-out ones report none', function () {
    const rounds = new AttemptRounds(retry);
    rounds.next();
    assert.equal(rounds.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 1), 400);
    assert.equal(rounds.before, 3);
  });

  it('a limit of 1 is one attempt; off (a run from before rounds, a duration string): the policy as given', function () {
    const one = new AttemptRounds({ ...retry, maximumAttempts: 1 });
    assert.equal(one.next().maximumAttempts, 1);
    assert.equal(one.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 1), undefined);
    const off = new AttemptRounds({ ...retry, maximumAttempts: 10 }, false);
    assert.deepEqual(off.next(), { ...retry, maximumAttempts: 10 });
    assert.equal(off.ended(failure('MAXIMUM_ATTEMPTS_REACHED'), 10), undefined);
    const text: RetryPolicy = { initialInterval: '1s', maximumInterval: '1m' };
    assert.deepEqual(new AttemptRounds(text).next(), text);
  });
});

/**
 * Temporal writes nothing to a run while it retries an activity. Without rounds, a POST retried against a
 * downstream answering 503 showed TxAttempts 1 for as long as it lasted, and the runbook's first search
 * (`TxPhase = "posting" AND TxAttempts > 5`) did not find it.
 */
describe('attempt rounds: a stuck POST is found by the runbook search (real dev server, worker, HTTP)', function () {
  this.timeout(90_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;
  let postsRefused = true;
  /** The requests for one transaction, in the order the mock saw them. */
  const requests: string[] = [];

  before(async function () {
    client = await testClient();
    mock = await startMock({}, (req, res) => {
      requests.push(req.method);
      if (req.method !== 'POST' || !postsRefused) return false;
      res.status(503).json({ error: 'not processed' });
      return true;
    });
    taskQueue = uniqueTaskQueue('attempt-rounds');
    worker = await startWorker({ taskQueue, postingUrl: mock.url });
  });
  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  it('TxAttempts passes 5 while the POST still retries; then posted once, a GET before every re-POST', async function () {
    const tx: Transaction = newTransaction();
    // Retries every 50-400 ms: about 20 attempts in 5 s.
    const handle = await client.workflow.start(processTransaction, {
      taskQueue,
      workflowId: tx.id,
      args: [{ transaction: tx, policy: fastPolicy() }],
    });
    const query = `${visibilityQuery(taskQueue, { phase: 'posting', min_attempts: 6 })} AND WorkflowId = "${tx.id}"`;
    await eventually(async () => assert.equal((await client.workflow.count(query)).count, 1), 30_000, 250);
    const { status } = await handle.describe();
    assert.equal(status.name, 'RUNNING', 'found while it still retries');

    postsRefused = false;
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.equal(mock.store.copies(tx.id), 1);
    const posts = requests.flatMap((method, i) => (method === 'POST' ? [i] : []));
    assert.ok(posts.length >= 7, `POSTs: ${posts.length}`);
    for (const i of posts.slice(1))
      assert.equal(requests[i - 1], 'GET', `request ${i} re-POSTs without a look`);
    assert.equal(state.attempts, 1 + posts.length, 'the check and each post attempt, counted once');
  });
});
