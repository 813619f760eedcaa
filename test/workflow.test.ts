import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import type { ProcessingPolicy, ProcessingState, Transaction } from '../src/domain/transaction';
import { TX_STATUS } from '../src/domain/search-attributes';
import { CANCEL_REFUSED, cancelUpdate, processTransaction, statusQuery } from '../src/workflows';
import { Worker } from '@temporalio/worker';
import { fastPolicy, newTransaction, startWorker, workflowBundle } from './support/harness';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { useWorkflowEnv } from './support/workflow-env';
import { execFile, spawnSync } from 'node:child_process';
import { obtainTemporalCli } from '../tools/stack/temporal-cli';
import { eventually } from './support/eventually';

describe('processTransaction workflow (real dev server, real worker, mock over HTTP)', function () {
  const env = useWorkflowEnv({ queuePrefix: 'workflow', worker: { postingTimeoutMs: 500 } });

  beforeEach(function () {
    env.mock.store.clear();
    env.mock.faults.update({
      preWriteFailureRate: 0,
      postWriteFailureRate: 0,
      getFailureRate: 0,
      outage: false,
    });
  });

  type Handle = Awaited<ReturnType<typeof run>>;
  async function timerSeconds(handle: Handle): Promise<number[]> {
    const { events } = await handle.fetchHistory();
    return (events ?? [])
      .map((e) => e.timerStartedEventAttributes?.startToFireTimeout)
      .filter((t) => t != null)
      .map((t) => Number(t.seconds ?? 0) + (t.nanos ?? 0) / 1e9);
  }
  /** The look activities (`look-n`) a run scheduled. */
  async function looks(handle: Handle): Promise<number> {
    const { events } = await handle.fetchHistory();
    return (events ?? []).filter((e) =>
      e.activityTaskScheduledEventAttributes?.activityId?.startsWith('look'),
    ).length;
  }

  const run = (transaction: Transaction, policy?: ProcessingPolicy) => env.start(transaction, policy);

  it('posts a new transaction once and reports it completed', async function () {
    const tx = newTransaction();
    const state = await (await run(tx)).result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'posted');
    assert.equal(state.attempts, 2, 'one check and one post');
    assert.ok(state.completedAt);
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.equal(env.mock.store.first(tx.id)?.amount, '150.50', 'the exact decimal reached the downstream');
  });

  it('does not post a transaction the downstream already holds', async function () {
    const tx = newTransaction();
    env.mock.store.add({
      id: tx.id,
      amount: tx.amount,
      currency: tx.currency,
      description: null,
      timestamp: tx.timestamp,
    });
    const state = await (await run(tx)).result();
    assert.equal(state.outcome, 'already_present');
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.equal(env.mock.store.stats().requests.post, 0);
  });

  it('fails as a conflict, never completes, when the downstream holds the ID with another amount', async function () {
    const tx = newTransaction();
    env.mock.store.add({ id: tx.id, amount: '999.00', currency: tx.currency, timestamp: tx.timestamp });
    const err = await (await run(tx)).result().then(
      () => assert.fail('expected the workflow to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    const activity = (err.cause as ApplicationFailure).cause;
    assert.ok(activity instanceof ActivityFailure);
    assert.ok(activity.cause instanceof ApplicationFailure);
    assert.equal(activity.cause.type, 'PostingConflict');
    assert.match(activity.cause.message, /another amount/);
    assert.equal(env.mock.store.stats().requests.post, 0);
  });

  it('retries a pre-write failure and posts once', async function () {
    env.mock.faults.update({ preWriteFailureRate: 1 });
    const tx = newTransaction();
    const handle = await run(tx);
    await eventually(() => assert.ok(env.mock.store.stats().faults.preWrite >= 2));
    env.mock.faults.update({ preWriteFailureRate: 0 });
    const state = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.ok(state.attempts >= 4, `attempts ${state.attempts}`);
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('after a post-write failure (5xx), the retry finds the transaction by GET and does not post again', async function () {
    env.mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'error' });
    const tx = newTransaction();
    const state = await (await run(tx)).result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'already_present');
    assert.equal(env.mock.store.stats().faults.postWrite, 1);
    assert.equal(env.mock.store.stats().requests.post, 1, 'exactly one POST');
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('after a POST that timed out but was written, the retry does not post again', async function () {
    env.mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 2_000 });
    const tx = newTransaction();
    const state = await (await run(tx)).result();
    assert.equal(state.outcome, 'already_present');
    assert.equal(env.mock.store.stats().faults.postWriteHang, 1);
    assert.equal(env.mock.store.stats().requests.post, 1);
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('a write already there when the early look comes ends the wait then, not at the end of the window', async function () {
    // Written, then answered 500: an unknown outcome to the worker, found by the look 1 s into the window.
    env.mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'error' });
    const tx = newTransaction();
    const handle = await run(tx, fastPolicy({ writeSettleMs: 20_000 }));
    const state = await handle.result();
    assert.equal(state.outcome, 'already_present');
    assert.equal(env.mock.store.stats().requests.post, 1);
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.deepEqual(await timerSeconds(handle), [1], 'no timer to the 20 s window: the early look found it');
    assert.equal(await looks(handle), 1);
  });

  describe('a write that lands after the worker gave up (mock: late writes, Idempotency-Key ignored)', function () {
    // Every POST is written 1.5 s after it arrived; the worker gives up after 500 ms. A GET in between: 404.
    beforeEach(function () {
      env.mock.faults.update({ lateWriteRate: 1, lateWriteMs: 1_500, idempotency: 'ignore' });
    });
    afterEach(function () {
      env.mock.faults.update({ lateWriteRate: 0, idempotency: 'honour' });
    });

    it('waits the write-settle window on a timer, finds the write and does not post again: one row', async function () {
      // The write lands 3 s after the POST arrived: after the early look (1 s into the window), before its end.
      env.mock.faults.update({ lateWriteMs: 3_000 });
      const tx = newTransaction();
      const handle = await run(tx, fastPolicy({ writeSettleMs: 4_000 }));
      const state = await handle.result();
      assert.equal(state.status, 'completed');
      assert.equal(state.outcome, 'already_present');
      assert.equal(env.mock.store.stats().requests.post, 1);
      assert.equal(env.mock.store.copies(tx.id), 1);
      // Durable timers: to the early look, then to the window's end, whose look found the write.
      const [early, rest, ...more] = await timerSeconds(handle);
      assert.deepEqual([early, more], [1, []]);
      assert.ok(
        rest !== undefined && rest > 2.5 && rest <= 3,
        `the rest of the 4 s window after the look: ${rest} s`,
      );
      assert.equal(await looks(handle), 2, 'the early look (404) and the one after the window');
    });

    it('without the window (0 ms) the same transaction is stored twice: the test models the failure', async function () {
      const tx = newTransaction();
      env.mock.faults.update({ lateWriteMs: 4_000 });
      await (await run(tx, fastPolicy({ writeSettleMs: 0 }))).result();
      // Each look reads 404 before the earlier POST's write lands, so each re-POST adds a row.
      await eventually(() =>
        assert.ok(env.mock.store.copies(tx.id) >= 2, `${env.mock.store.copies(tx.id)} rows`),
      );
    });
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
    assert.equal(env.mock.store.stats().requests.post, 1, 'no retry after a rejection');
  });

  it('answers the status query while it retries, then completes when the downstream recovers', async function () {
    env.mock.faults.update({ outage: true });
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
    env.mock.faults.update({ outage: false });
    const state = await handle.result();
    assert.equal(state.status, 'completed');
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('fails with its last error when the deadline passes', async function () {
    env.mock.faults.update({ outage: true });
    const tx = newTransaction();
    const policy = fastPolicy({ deadlineMs: 1_500 });
    policy.check.retry.maximumInterval = 200;
    const err = await (await run(tx, policy)).result().then(
      () => assert.fail('expected the workflow to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'TransactionFailed');
    assert.ok(err.cause.cause instanceof ActivityFailure);
    // Temporal gives up either at the deadline itself (a schedule-to-close timeout) or earlier, when the next
    // backoff would overshoot it (the last 503, retry state TIMEOUT): both are retries stopped by the deadline.
    const activity = err.cause.cause;
    const last = activity.cause;
    assert.ok(
      (last instanceof TimeoutFailure && last.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE) ||
        (last instanceof ApplicationFailure &&
          last.type === 'PostingUnavailable' &&
          activity.retryState === RetryState.TIMEOUT),
      `${activity.activityType}: ${activity.retryState} ${last?.name} ${last?.message}`,
    );
    const state = err.cause.details?.[0] as ProcessingState;
    assert.equal(state.status, 'failed');
    assert.match(state.lastError ?? '', /503|timeout/i);
    assert.equal(env.mock.store.copies(tx.id), 0);
  });

  it('when the deadline cuts a POST of unknown outcome short, a final check finds it and completes it', async function () {
    // The POST is written and held past the client timeout; from then on every GET fails until the
    // deadline has passed and the final check is under way.
    env.mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 5_000 });
    const tx = newTransaction();
    const handle = await run(tx, fastPolicy({ deadlineMs: 1_500 }));
    await eventually(() => assert.equal(env.mock.store.copies(tx.id), 1), 10_000, 5);
    env.mock.faults.update({ getFailureRate: 1 });
    await eventually(async () => {
      const { events } = await handle.fetchHistory();
      const scheduled = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
      assert.equal(scheduled.length, 3, 'check, post, final check');
    });
    env.mock.faults.update({ getFailureRate: 0 });
    const state = await handle.result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'already_present');
    assert.match(
      state.lastError ?? '',
      /outcome unknown/,
      `the POST failure is kept as the last error: ${state.lastError}`,
    );
    assert.equal(env.mock.store.stats().requests.post, 1);
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('an operator reset of a failed transaction (the README command) runs it again and posts it once', async function () {
    env.mock.faults.update({ outage: true });
    const tx = newTransaction();
    const failed = await run(tx, fastPolicy({ deadlineMs: 1_000 }));
    await assert.rejects(failed.result(), WorkflowFailedError);
    env.mock.faults.update({ outage: false });
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
    const state = await env.client.workflow.getHandle<typeof processTransaction>(tx.id).result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'posted');
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  describe('cancellation', function () {
    const scheduled = async (id: string) => {
      const { events } = await env.client.workflow.getHandle(id).fetchHistory();
      return (events ?? [])
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((name): name is string => Boolean(name));
    };

    // Asynchronous: the worker runs in this process and must keep answering while the CLI waits.
    const temporalCli = async (args: string[]) => {
      const cli = await obtainTemporalCli();
      return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          cli,
          [...args, '--address', testTemporalAddress()],
          { timeout: 30_000 },
          (err, stdout, stderr) =>
            resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
        );
      });
    };

    /** The run's recorded history replays with the current code (update and cancel included). */
    const replays = async (id: string) => {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, id);
    };

    it('a workflow cancel request before the POST ends it cancelled, and nothing is posted', async function () {
      env.mock.faults.update({ outage: true }); // every check fails: the workflow stays before its POST
      const tx = newTransaction();
      const handle = await run(tx);
      await eventually(() => assert.ok(env.mock.store.stats().faults.outage >= 2));
      await handle.cancel(); // what `temporal workflow cancel` and the Web UI send
      const state = await handle.result();
      assert.equal(state.status, 'cancelled');
      assert.equal(state.outcome, null);
      assert.ok(state.completedAt);
      env.mock.faults.update({ outage: false });
      const description = await handle.describe();
      assert.equal(description.status.name, 'COMPLETED', 'a normal result carrying status cancelled');
      assert.equal(description.typedSearchAttributes.get(TX_STATUS), 'cancelled');
      assert.deepEqual(await scheduled(tx.id), ['checkExists']);
      assert.equal(env.mock.store.copies(tx.id), 0);
      await replays(tx.id);
    });

    it('the cancel update before the POST (README: temporal workflow update execute) answers cancelled', async function () {
      env.mock.faults.update({ outage: true });
      const tx = newTransaction();
      const handle = await run(tx);
      await eventually(() => assert.ok(env.mock.store.stats().faults.outage >= 1));
      const update = await temporalCli([
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        tx.id,
        '--name',
        'cancel',
        '--output',
        'json',
      ]);
      assert.equal(update.status, 0, update.stderr);
      assert.match(update.stdout, /"status":\s*"cancelled"/);
      env.mock.faults.update({ outage: false });
      assert.equal((await handle.result()).status, 'cancelled');
      assert.deepEqual(await scheduled(tx.id), ['checkExists']);
      assert.equal(env.mock.store.copies(tx.id), 0);
      await replays(tx.id);
    });

    it('once the POST is in flight, the cancel update is refused and a cancel request is ignored: posted once', async function () {
      // Stored, then the answer is held past the worker's 500 ms timeout.
      env.mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 2_000 });
      const tx = newTransaction();
      const handle = await run(tx);
      await eventually(() => assert.equal(env.mock.store.copies(tx.id), 1), 10_000, 5);
      const refused = await handle.executeUpdate(cancelUpdate).then(
        () => assert.fail('expected the cancel update to be refused'),
        (e: unknown) => e,
      );
      assert.ok(refused instanceof WorkflowUpdateFailedError);
      assert.ok(refused.cause instanceof ApplicationFailure);
      assert.equal(refused.cause.type, CANCEL_REFUSED);
      await handle.cancel();
      env.mock.faults.update({ postWriteFailureRate: 0 });
      const state = await handle.result();
      assert.equal(state.status, 'completed');
      assert.equal(state.outcome, 'already_present');
      assert.equal(env.mock.store.stats().requests.post, 1);
      assert.equal(env.mock.store.copies(tx.id), 1);
      await replays(tx.id);
    });

    it('a cancel request (README: temporal workflow cancel) before any worker ran it: cancelled on its first task, nothing checked or posted', async function () {
      const idle = uniqueTaskQueue('workflow-idle');
      const tx = newTransaction();
      const handle = await env.client.workflow.start(processTransaction, {
        taskQueue: idle,
        workflowId: tx.id,
        args: [{ transaction: tx, policy: fastPolicy() }],
      });
      const cancel = await temporalCli(['workflow', 'cancel', '--workflow-id', tx.id]);
      assert.equal(cancel.status, 0, cancel.stderr);
      const late = await startWorker({ taskQueue: idle, postingUrl: env.mock.url, postingTimeoutMs: 500 });
      try {
        assert.equal((await handle.result()).status, 'cancelled');
      } finally {
        await late.stop();
      }
      assert.deepEqual(await scheduled(tx.id), []);
      assert.equal(env.mock.store.copies(tx.id), 0);
    });
  });
});

describe('a POST never outlives its attempt (real dev server, real worker, slow mock)', function () {
  // The HTTP limit is longer than the post attempt: only the attempt's own clock can stop a late POST.
  const env = useWorkflowEnv({ queuePrefix: 'attempt-time', worker: { postingTimeoutMs: 10_000 } });

  it('while every call outlasts its attempt, a POST cut short is followed by the settle window and a look: stored once', async function () {
    this.timeout(60_000);
    const tx = newTransaction();
    // Every GET and POST takes 1.5 s, longer than an attempt (1 s): Temporal times each attempt out, and the
    // POST, cut short by the attempt's own clock, is still written by the slow downstream.
    env.mock.faults.update({
      getLatencyMs: { min: 1_500, max: 1_500 },
      postLatencyMs: { min: 1_500, max: 1_500 },
    });
    const policy = fastPolicy({
      check: { ...fastPolicy().check, startToCloseTimeout: 3_000 },
      post: { ...fastPolicy().post, startToCloseTimeout: 1_000 },
      writeSettleMs: 2_000,
    });
    const handle = await env.start(tx, policy);
    const state = await handle.result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'already_present', 'found by the look after the window, not posted again');
    assert.equal(
      env.mock.store.stats().requests.post,
      1,
      'one POST: the timed-out attempt was not retried at once',
    );
    assert.equal(env.mock.store.copies(tx.id), 1);
    const { events } = await handle.fetchHistory();
    const timers = (events ?? []).filter((e) => e.timerStartedEventAttributes);
    // The timer to the early look comes first; the window's own follows unless that look found the write.
    assert.ok(timers.length >= 1, 'durable write-settle timers, visible in the Web UI');
    assert.equal(Number(timers[0]?.timerStartedEventAttributes?.startToFireTimeout?.seconds), 1);
    env.mock.faults.update({ getLatencyMs: { min: 0, max: 0 }, postLatencyMs: { min: 0, max: 0 } });
  });
});
