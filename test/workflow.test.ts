import assert from 'node:assert/strict';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import type { ProcessingPolicy, ProcessingState, Transaction } from '../src/domain/transaction';
import { processTransaction, statusQuery } from '../src/workflows';
import { fastPolicy, newTransaction, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { spawnSync } from 'node:child_process';
import { obtainTemporalCli } from '../src/stack/temporal-cli';
import { eventually } from './support/eventually';

describe('processTransaction workflow (real dev server, real worker, mock over HTTP)', function () {
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    mock = await startMock();
    taskQueue = uniqueTaskQueue('workflow');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 500 });
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  beforeEach(function () {
    mock.store.clear();
    mock.faults.update({ preWriteFailureRate: 0, postWriteFailureRate: 0, getFailureRate: 0, outage: false });
  });

  function run(transaction: Transaction, policy: ProcessingPolicy = fastPolicy()) {
    return client.workflow.start(processTransaction, {
      taskQueue,
      workflowId: transaction.id,
      args: [{ transaction, policy }],
    });
  }

  it('posts a new transaction once and reports it completed', async function () {
    const tx = newTransaction();
    const state = await (await run(tx)).result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'posted');
    assert.equal(state.attempts, 2, 'one check and one post');
    assert.ok(state.completedAt);
    assert.equal(mock.store.copies(tx.id), 1);
    assert.equal(mock.store.first(tx.id)?.amount, '150.50', 'the exact decimal reached the downstream');
  });

  it('does not post a transaction the downstream already holds', async function () {
    const tx = newTransaction();
    mock.store.add({
      id: tx.id,
      amount: tx.amount,
      currency: tx.currency,
      description: null,
      timestamp: tx.timestamp,
    });
    const state = await (await run(tx)).result();
    assert.equal(state.outcome, 'already_present');
    assert.equal(mock.store.copies(tx.id), 1);
    assert.equal(mock.store.stats().requests.post, 0);
  });

  it('retries a pre-write failure and posts once', async function () {
    mock.faults.update({ preWriteFailureRate: 1 });
    const tx = newTransaction();
    const handle = await run(tx);
    await eventually(() => assert.ok(mock.store.stats().faults.preWrite >= 2));
    mock.faults.update({ preWriteFailureRate: 0 });
    const state = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.ok(state.attempts >= 4, `attempts ${state.attempts}`);
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('after a post-write failure (5xx), the retry finds the transaction by GET and does not post again', async function () {
    mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'error' });
    const tx = newTransaction();
    const state = await (await run(tx)).result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'already_present');
    assert.equal(mock.store.stats().faults.postWrite, 1);
    assert.equal(mock.store.stats().requests.post, 1, 'exactly one POST');
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('after a POST that timed out but was written, the retry does not post again', async function () {
    mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 2_000 });
    const tx = newTransaction();
    const state = await (await run(tx)).result();
    assert.equal(state.outcome, 'already_present');
    assert.equal(mock.store.stats().faults.postWriteHang, 1);
    assert.equal(mock.store.stats().requests.post, 1);
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('fails at once on a rejection, with the cause chain down to the downstream answer', async function () {
    // The mock refuses a malformed currency with 400: a final answer, not worth a retry.
    const tx = newTransaction({ currency: 'inr' });
    const err = await (await run(tx)).result().then(
      () => assert.fail('expected the workflow to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    const failed = err.cause;
    assert.ok(failed instanceof ApplicationFailure);
    assert.equal(failed.type, 'TransactionFailed');
    const activity = failed.cause;
    assert.ok(activity instanceof ActivityFailure);
    assert.equal(activity.activityType, 'postTransaction');
    const rejection = activity.cause;
    assert.ok(rejection instanceof ApplicationFailure);
    assert.equal(rejection.type, 'PostingRejected');
    assert.equal(rejection.nonRetryable, true);
    assert.match(rejection.message, /answered 400/);
    const state = failed.details?.[0] as ProcessingState;
    assert.equal(state.status, 'failed');
    assert.match(state.lastError ?? '', /answered 400/);
    assert.equal(mock.store.stats().requests.post, 1, 'no retry after a rejection');
  });

  it('answers the status query while it retries, then completes when the downstream recovers', async function () {
    mock.faults.update({ outage: true });
    const tx = newTransaction();
    const handle = await run(tx);
    const during = await eventually(async () => {
      const s = await handle.query(statusQuery);
      assert.equal(s.status, 'processing');
      return s;
    });
    assert.equal(during.completedAt, null);
    const metadata = await handle.query(workflowMetadataQuery);
    assert.match(
      metadata.currentDetails ?? '',
      /\*\*processing\*\*/,
      'the run page in the Web UI shows the status',
    );
    mock.faults.update({ outage: false });
    const state = await handle.result();
    assert.equal(state.status, 'completed');
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('fails with its last error when the deadline passes', async function () {
    mock.faults.update({ outage: true });
    const tx = newTransaction();
    const policy = fastPolicy({ deadlineMs: 1_500 });
    policy.check.maximumIntervalMs = 200;
    const err = await (await run(tx, policy)).result().then(
      () => assert.fail('expected the workflow to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'TransactionFailed');
    assert.ok(err.cause.cause instanceof ActivityFailure);
    assert.ok(err.cause.cause.cause instanceof TimeoutFailure, `got ${err.cause.cause.cause?.name}`);
    const state = err.cause.details?.[0] as ProcessingState;
    assert.equal(state.status, 'failed');
    assert.match(state.lastError ?? '', /503|timeout/i);
    assert.equal(mock.store.copies(tx.id), 0);
  });

  it('when the deadline cuts a POST of unknown outcome short, a final check finds it and completes it', async function () {
    // The POST is written and held past the client timeout; from then on every GET fails until the
    // deadline has passed and the final check is under way.
    mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 5_000 });
    const tx = newTransaction();
    const handle = await run(tx, fastPolicy({ deadlineMs: 1_500 }));
    await eventually(() => assert.equal(mock.store.copies(tx.id), 1), 10_000, 5);
    mock.faults.update({ getFailureRate: 1 });
    await eventually(async () => {
      const { events } = await handle.fetchHistory();
      const scheduled = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
      assert.equal(scheduled.length, 3, 'check, post, final check');
    });
    mock.faults.update({ getFailureRate: 0 });
    const state = await handle.result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'already_present');
    assert.match(
      state.lastError ?? '',
      /timed out|answered 5\d\d/,
      `the POST failure is kept as the last error: ${state.lastError}`,
    );
    assert.equal(mock.store.stats().requests.post, 1);
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('an operator reset of a failed transaction (the README command) runs it again and posts it once', async function () {
    mock.faults.update({ outage: true });
    const tx = newTransaction();
    const failed = await run(tx, fastPolicy({ deadlineMs: 1_000 }));
    await assert.rejects(failed.result(), WorkflowFailedError);
    mock.faults.update({ outage: false });
    const cli = await obtainTemporalCli();
    const reset = spawnSync(
      cli,
      [
        'workflow',
        'reset',
        '--address',
        testTemporalAddress(),
        '--workflow-id',
        tx.id,
        '--type',
        'FirstWorkflowTask',
        '--reason',
        'downstream fixed',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(reset.status, 0, reset.stderr);
    const state = await client.workflow.getHandle<typeof processTransaction>(tx.id).result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'posted');
    assert.equal(mock.store.copies(tx.id), 1);
  });
});
