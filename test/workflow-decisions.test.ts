// The workflow's decisions as a table: the real workflow code on a real (test) server, the activities stubbed
// by a script of answers (support/stub-activities.ts), so that each row runs in a second or two. The integration tests (workflow.test.ts)
// cover the same workflow against the mock over HTTP.
import assert from 'node:assert/strict';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
  defaultPayloadConverter,
} from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { ProcessingPolicy, ProcessingState } from '../src/domain/transaction';
import { CANCEL_REFUSED, cancelUpdate, processTransaction, statusQuery } from '../src/workflows';
import { eventually } from './support/eventually';
import { stubActivities, type Calls, type Script } from './support/stub-activities';
import { newTransaction, testClient, workflowBundle } from './support/harness';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

function policy(overrides: Partial<ProcessingPolicy> = {}): ProcessingPolicy {
  const fast = {
    startToCloseTimeout: 2_000,
    retry: { initialInterval: 10, backoffCoefficient: 1, maximumInterval: 10 },
  };
  return { check: fast, post: fast, deadlineMs: 60_000, writeSettleMs: 100, ...overrides };
}

interface Expected {
  status: 'completed' | 'failed';
  outcome?: 'posted' | 'already_present';
  /** The downstream's failure type at the end of the cause chain. */
  failure?: string;
  attempts: number;
  calls: Calls;
}

interface Row {
  name: string;
  script: Script;
  policy?: ProcessingPolicy;
  expected: Expected;
}

const calls = (check: number, post = 0, look = 0): Calls => ({ check, post, look });

const ROWS: Row[] = [
  {
    name: 'absent, posted: completed, posted',
    script: { check: ['absent'], post: ['posted'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 2, calls: calls(1, 1) },
  },
  {
    name: 'found by the first check: completed, nothing posted',
    script: { check: ['found'] },
    expected: { status: 'completed', outcome: 'already_present', attempts: 1, calls: calls(1) },
  },
  {
    name: 'the check retries what failed to read, then posts',
    script: { check: ['unavailable', 'unavailable', 'absent'], post: ['posted'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 4, calls: calls(3, 1) },
  },
  {
    name: 'held with other content: failed as a conflict, nothing posted',
    script: { check: ['conflict'] },
    expected: { status: 'failed', failure: 'PostingConflict', attempts: 1, calls: calls(1) },
  },
  {
    name: 'POSTs that wrote nothing are retried by the activity: posted',
    script: { check: ['absent'], post: ['not_written', 'timeout', 'posted'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 4, calls: calls(1, 3) },
  },
  {
    name: "a retried POST's look found it: completed, already present",
    script: { check: ['absent'], post: ['not_written', 'already_present'] },
    expected: { status: 'completed', outcome: 'already_present', attempts: 3, calls: calls(1, 2) },
  },
  {
    name: 'rejected, and the look after it finds nothing: failed',
    script: { check: ['absent'], post: ['rejected'], look: ['absent'] },
    expected: { status: 'failed', failure: 'PostingRejected', attempts: 3, calls: calls(1, 1, 1) },
  },
  {
    name: 'rejected, but the look after it finds it (the service broke its word): completed',
    script: { check: ['absent'], post: ['rejected'], look: ['found'] },
    expected: { status: 'completed', outcome: 'already_present', attempts: 3, calls: calls(1, 1, 1) },
  },
  {
    name: 'unknown outcome, the look after the window finds it: completed, not posted again',
    script: { check: ['absent'], post: ['unknown'], look: ['found'] },
    expected: { status: 'completed', outcome: 'already_present', attempts: 3, calls: calls(1, 1, 1) },
  },
  {
    name: 'unknown outcome, the look finds nothing: posted again',
    script: { check: ['absent'], post: ['unknown', 'posted'], look: ['absent'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 4, calls: calls(1, 2, 1) },
  },
  {
    name: 'unknown outcome, nothing found after the window, past the deadline: failed as unknown',
    script: { check: ['absent'], post: ['unknown'], look: ['absent'] },
    // A window of 1 s has no early look (earlyLooksMs): the one look comes after it.
    policy: policy({ deadlineMs: 1_000, writeSettleMs: 1_000 }),
    expected: { status: 'failed', failure: 'PostingOutcomeUnknown', attempts: 3, calls: calls(1, 1, 1) },
  },
  {
    name: 'unknown outcome, the early look a second into a longer window finds it: completed, not posted again',
    script: { check: ['absent'], post: ['unknown'], look: ['found'] },
    policy: policy({ writeSettleMs: 30_000 }),
    expected: { status: 'completed', outcome: 'already_present', attempts: 3, calls: calls(1, 1, 1) },
  },
  {
    // A conflict is no reason to fail inside the window: the look after it decides (review of issue 16).
    name: 'unknown outcome, the early look meets a conflict: the look after the window decides, failed as a conflict',
    script: { check: ['absent'], post: ['unknown'], look: ['conflict', 'conflict'] },
    policy: policy({ writeSettleMs: 2_000 }),
    expected: { status: 'failed', failure: 'PostingConflict', attempts: 4, calls: calls(1, 1, 2) },
  },
  {
    name: 'the look after an unknown outcome meets a conflict: failed as a conflict',
    script: { check: ['absent'], post: ['unknown'], look: ['conflict'] },
    expected: { status: 'failed', failure: 'PostingConflict', attempts: 3, calls: calls(1, 1, 1) },
  },
  {
    name: 'the breaker pauses the check: no attempt counted for the pause, then posted',
    script: { check: ['paused', 'absent'], post: ['posted'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 2, calls: calls(2, 1) },
  },
  {
    name: 'the breaker stops the post after a POST that wrote nothing: a look before the next POST, posted',
    script: { check: ['absent'], post: ['not_written', 'paused', 'posted'], look: ['absent'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 4, calls: calls(1, 3, 1) },
  },
  {
    name: "the breaker stops the post's first attempt: nothing was sent, no look, posted",
    script: { check: ['absent'], post: ['paused', 'posted'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 2, calls: calls(1, 2, 0) },
  },
  {
    name: 'paused after a POST that wrote nothing, the look finds it: completed, not posted again',
    script: { check: ['absent'], post: ['not_written', 'paused'], look: ['found'] },
    expected: { status: 'completed', outcome: 'already_present', attempts: 3, calls: calls(1, 2, 1) },
  },
  {
    name: "the check's 4th attempt comes in a second round of retries (attempt-rounds.ts): every attempt counted",
    script: {
      check: ['unavailable', 'unavailable', 'unavailable', 'unavailable', 'absent'],
      post: ['posted'],
    },
    expected: { status: 'completed', outcome: 'posted', attempts: 6, calls: calls(5, 1) },
  },
  {
    name: 'POSTs that wrote nothing, retried over two rounds: posted',
    script: { check: ['absent'], post: ['not_written', 'not_written', 'not_written', 'posted'] },
    expected: { status: 'completed', outcome: 'posted', attempts: 5, calls: calls(1, 4) },
  },
];

describe('processTransaction decisions (stubbed activities, a task queue per row)', function () {
  this.timeout(20_000);
  let client: Client;
  let connection: NativeConnection;

  before(async function () {
    client = await testClient();
    connection = await NativeConnection.connect({ address: testTemporalAddress() });
  });
  after(async function () {
    await connection?.close();
  });

  /** Runs the workflow to its end on a worker of its own with the stubbed activities. */
  async function run(
    script: Script,
    runPolicy = policy(),
    during?: (id: string) => Promise<void>,
    watch?: (made: Calls) => void,
  ) {
    const made: Calls = calls(0);
    watch?.(made);
    const taskQueue = uniqueTaskQueue('decisions');
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: stubActivities(script, made),
    });
    const transaction = newTransaction();
    const outcome = worker.runUntil(async () => {
      const handle = await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: transaction.id,
        args: [{ transaction, policy: runPolicy }],
      });
      await during?.(transaction.id);
      return handle.result().then(
        (state) => ({ state, error: undefined }),
        (error: unknown) => ({ state: undefined, error }),
      );
    });
    return { ...(await outcome), calls: made };
  }

  // Every row three ways, with the same calls: the first check as an activity task, as a local activity
  // with the early looks (policy.checkLocally, looksLocally), and with the first POST local too (policy.postLocally).
  const WAYS = [
    { name: '', local: { checkLocally: false } },
    { name: ' [check as a local activity]', local: { checkLocally: true, looksLocally: true } },
    {
      name: ' [check and POST as local activities]',
      local: { checkLocally: true, postLocally: true, looksLocally: true },
    },
  ];
  for (const [row, way] of ROWS.flatMap((r) => WAYS.map((w) => [r, w] as const))) {
    it(`${row.name}${way.name}`, async function () {
      const rowPolicy = { ...(row.policy ?? policy()), ...way.local };
      const { state, error, calls: made } = await run(row.script, rowPolicy);
      const { expected } = row;
      let final: ProcessingState;
      if (expected.status === 'completed') {
        assert.equal(error, undefined, String(error));
        final = state as ProcessingState;
        assert.equal(final.outcome, expected.outcome);
      } else {
        final = failedState(error, expected.failure as string);
      }
      assert.equal(final.status, expected.status);
      assert.equal(final.pendingActivityId, undefined, 'no activity left in flight');
      assert.equal(final.attempts, expected.attempts, 'attempts: every call, each once');
      assert.deepEqual(made, expected.calls);
    });
  }

  it('a check limited to one attempt after a local try that got no answer: failed, not stuck', async function () {
    const limited = policy();
    limited.check = { ...limited.check, retry: { ...limited.check.retry, maximumAttempts: 1 } };
    const { error, calls: made } = await run({ check: ['unavailable*'] }, { ...limited, checkLocally: true });
    const final = failedState(error, 'PostingUnavailable');
    assert.deepEqual(made, calls(2), 'the local try, then the one attempt of the activity');
    assert.equal(final.attempts, 2);
  });

  it("a round that ends after a pause shows the step's phase again (TxPhase), not paused", async function () {
    let id = '';
    const { state } = await run(
      { check: ['absent'], post: ['paused', 'not_written', 'not_written', 'not_written', 'posted'] },
      policy(),
      async (txId) => {
        id = txId;
      },
    );
    assert.equal(state?.outcome, 'posted');
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const phases = events.flatMap((e) => {
      const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TxPhase;
      return field ? [defaultPayloadConverter.fromPayload(field)] : [];
    });
    assert.deepEqual(phases, ['posting', 'paused', 'posting', 'done']);
  });

  it('the check retries until the deadline: failed by the deadline, nothing posted', async function () {
    const { error, calls: made } = await run({ check: ['unavailable*'] }, policy({ deadlineMs: 2_000 }));
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.ok(error.cause instanceof ApplicationFailure);
    const activity = error.cause.cause;
    assert.ok(activity instanceof ActivityFailure);
    // Temporal stops at the deadline itself (a schedule-to-close timeout, which reports no attempt number) or
    // before it, when the next backoff would overshoot it (the last failure, retry state TIMEOUT).
    const last = activity.cause;
    const final = error.cause.details?.[0] as ProcessingState;
    if (last instanceof TimeoutFailure) {
      assert.equal(last.timeoutType, TimeoutType.SCHEDULE_TO_CLOSE);
      assert.ok(final.attempts >= 1 && final.attempts <= made.check, `${final.attempts} of ${made.check}`);
    } else {
      assert.ok(last instanceof ApplicationFailure, String(last));
      assert.equal(last.type, 'PostingUnavailable');
      assert.equal(activity.retryState, RetryState.TIMEOUT);
      assert.equal(final.attempts, made.check);
    }
    // Either way the deadline ended it: a redrive of the deadline's failures must find it (memo lastErrorKind).
    assert.equal(final.lastErrorKind, 'deadline');
    assert.ok(made.check >= 1, JSON.stringify(made));
    assert.equal(made.post, 0);
  });

  it("an early look that gets no answer leaves no trace: the last error stays the POST's, its one call counted", async function () {
    // The early look (1 s into a 2 s window) gets a 503 and no time for a retry before the window ends.
    const {
      state,
      error,
      calls: made,
    } = await run(
      { check: ['absent'], post: ['unknown', 'posted'], look: ['unavailable', 'absent'] },
      policy({ writeSettleMs: 2_000 }),
    );
    assert.equal(error, undefined, String(error));
    const final = state as ProcessingState;
    assert.equal(final.outcome, 'posted');
    assert.equal(final.lastErrorKind, 'unknown', 'the POST of unknown outcome, not the look');
    assert.match(String(final.lastError), /unknown/);
    assert.deepEqual(made, { check: 1, post: 2, look: 2 });
    assert.equal(final.attempts, 5, 'check, POST, the early look that failed, the look, POST');
  });

  it('a backoff that would overshoot the deadline ends the check early: failed by the deadline, kind deadline', async function () {
    const slow = { startToCloseTimeout: 2_000, retry: { initialInterval: 10_000, maximumInterval: 10_000 } };
    const { error, calls: made } = await run(
      { check: ['unavailable*'] },
      policy({ deadlineMs: 3_000, check: slow }),
    );
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.ok(error.cause instanceof ApplicationFailure);
    const activity = error.cause.cause;
    assert.ok(activity instanceof ActivityFailure);
    assert.equal(activity.retryState, RetryState.TIMEOUT);
    const final = error.cause.details?.[0] as ProcessingState;
    assert.match(String(final.lastError), /unavailable|503/i);
    assert.equal(final.lastErrorKind, 'deadline');
    assert.deepEqual(made, { check: 1, post: 0, look: 0 });
  });

  it('while an activity retries, the status query names it as the pending activity describe() shows, uncounted', async function () {
    let made: Calls | undefined;
    // A second apart: the query comes between the first round's 2nd and 3rd attempts, before the round ends and
    // its next activity (check-2) is scheduled (attempt-rounds.ts).
    const slow = { startToCloseTimeout: 2_000, retry: { initialInterval: 1_000, backoffCoefficient: 1 } };
    await run(
      { check: ['unavailable*'] },
      policy({ check: slow }),
      async (id) => {
        const handle = client.workflow.getHandle(id);
        await eventually(() => assert.ok((made?.check ?? 0) >= 2), 20_000, 20);
        const [state, description] = [await handle.query(statusQuery), await handle.describe()];
        assert.equal(state.pendingActivityId, 'check-1');
        assert.equal(description.raw.pendingActivities?.[0]?.activityId, 'check-1');
        assert.equal(state.attempts, 0, 'counted once the activity ends, by the workflow alone');
        await handle.cancel();
      },
      (m) => (made = m),
    );
  });

  describe('cancellation', function () {
    it('a cancel request while the check retries: cancelled, nothing posted, no error', async function () {
      let made: Calls | undefined;
      const {
        state,
        error,
        calls: seen,
      } = await run(
        { check: ['unavailable*'] },
        // Half a second between attempts: the cancel lands within the first round of three, before a round's
        // end shows the check's failure as the run's last error (which a later cancel would rightly keep).
        policy({
          check: { startToCloseTimeout: 2_000, retry: { initialInterval: 500, backoffCoefficient: 1 } },
        }),
        async (id) => {
          await eventually(() => assert.ok((made?.check ?? 0) >= 2));
          await client.workflow.getHandle(id).cancel();
        },
        (m) => (made = m),
      );
      assert.equal(error, undefined, String(error));
      assert.equal(state?.status, 'cancelled');
      assert.equal(state?.lastError, null);
      assert.ok(state?.completedAt);
      assert.equal(seen.post, 0);
    });

    it('the cancel update while the check retries answers cancelled', async function () {
      let made: Calls | undefined;
      let answer: ProcessingState | undefined;
      const { state } = await run(
        { check: ['unavailable*'] },
        policy(),
        async (id) => {
          await eventually(() => assert.ok((made?.check ?? 0) >= 2));
          answer = await client.workflow.getHandle(id).executeUpdate(cancelUpdate);
        },
        (m) => (made = m),
      );
      assert.equal(answer?.status, 'cancelled');
      assert.equal(state?.status, 'cancelled');
      assert.equal(made?.post, 0);
    });

    it('once the POST is in flight, the update is refused and a cancel request ignored: posted', async function () {
      let release = () => {};
      const postGate = new Promise<void>((resolve) => (release = resolve));
      let made: Calls | undefined;
      const { state, calls: seen } = await run(
        { check: ['absent'], post: ['posted'], postGate },
        policy(),
        async (id) => {
          await eventually(() => assert.equal(made?.post, 1));
          const handle = client.workflow.getHandle(id);
          await assert.rejects(handle.executeUpdate(cancelUpdate), (err: Error) => {
            assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
            assert.equal(err.cause.type, CANCEL_REFUSED);
            return true;
          });
          await handle.cancel();
          release();
        },
        (m) => (made = m),
      );
      assert.equal(state?.status, 'completed');
      assert.equal(state?.outcome, 'posted');
      assert.equal(state?.attempts, 2);
      assert.deepEqual(seen, calls(1, 1));
    });
  });
});

/** The failure cause chain of a failed transaction: TransactionFailed <- ActivityFailure <- the downstream's type. */
function failedState(error: unknown, type: string): ProcessingState {
  assert.ok(error instanceof WorkflowFailedError, String(error));
  const failed = error.cause;
  assert.ok(failed instanceof ApplicationFailure);
  assert.equal(failed.type, 'TransactionFailed');
  const activity = failed.cause;
  assert.ok(activity instanceof ActivityFailure, String(activity));
  let cause: unknown = activity.cause;
  while (!(cause instanceof ApplicationFailure) && cause instanceof Error) cause = cause.cause;
  assert.ok(cause instanceof ApplicationFailure, String(activity.cause));
  assert.equal(cause.type, type);
  return failed.details?.[0] as ProcessingState;
}
