// The pure parts of the transactions service: a run's memo, description, query answer or result as a view, and
// the options a run starts with. No Temporal server: every input is built here.
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, RetryState } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { TX_AMOUNT, TX_SOURCE_ACCOUNT, TX_STATUS } from '../src/domain/search-attributes';
import type { ProcessingPolicy, ProcessingState, Transaction } from '../src/domain/transaction';
import { retryDelayMs, startOptions } from '../src/api/transactions/start-options';
import type { TransactionMemo } from '../src/api/transactions/transaction-view';
import {
  closedView,
  failedState,
  listedView,
  pendingCalls,
  pendingView,
  runningView,
} from '../src/api/transactions/view-mappers';

const { WorkflowExecutionStatus } = temporal.api.enums.v1;

const transaction: Transaction = {
  id: 'tx-views-1',
  amount: '150.50',
  currency: 'INR',
  description: 'invoice 42',
  timestamp: '2026-11-23T10:00:00.000Z',
  metadata: { order: 'A-17' },
  sourceAccount: 'acc_a',
  destinationAccount: 'acc_b',
};
const memo: TransactionMemo = { transaction, fingerprint: 'f1', submittedAt: '2026-11-23T10:00:01.000Z' };
const retry = { initialInterval: 10, backoffCoefficient: 2, maximumInterval: 100 };
const policy: ProcessingPolicy = {
  check: { startToCloseTimeout: 1_000, retry },
  post: { startToCloseTimeout: 5_000, retry },
  deadlineMs: 60_000,
  writeSettleMs: 2_000,
};
const completed: ProcessingState = {
  status: 'completed',
  attempts: 3,
  lastError: null,
  outcome: 'posted',
  completedAt: '2026-11-23T10:00:05.000Z',
};

describe('transaction views (no Temporal)', function () {
  it('a new transaction is pending, from its memo alone', function () {
    // Nothing has happened yet: no attempt, error, outcome or completion.
    assert.deepEqual(pendingView(memo), {
      status: 'pending',
      attempts: 0,
      lastError: null,
      outcome: null,
      completedAt: null,
      transaction,
      submittedAt: memo.submittedAt,
    });
  });

  describe('a running transaction', function () {
    const record = { status: 'processing' as const, attempt: 2, lastFailure: 'HTTP 503' };

    it('without a worker answer: the server record, with the call in flight', function () {
      const view = runningView(memo, record, undefined);
      assert.equal(view.status, 'processing');
      assert.equal(view.attempts, 2);
      assert.equal(view.lastError, 'HTTP 503');
      assert.equal(
        runningView(memo, { status: undefined, attempt: 0, lastFailure: null }, undefined).status,
        'pending',
      );
    });

    it("with the worker's answer: its counts plus the call in flight, whose error is the latest", function () {
      const state: ProcessingState = {
        ...completed,
        status: 'processing',
        attempts: 1,
        lastError: 'timeout',
        outcome: null,
        completedAt: null,
      };
      const view = runningView(memo, record, state);
      assert.equal(view.status, 'processing');
      assert.equal(view.attempts, 3);
      assert.equal(view.lastError, 'HTTP 503');
      assert.equal(runningView(memo, { ...record, lastFailure: null }, state).lastError, 'timeout');
    });

    it('an activity that ended between describe() and the query is counted once, by the workflow', function () {
      const state: ProcessingState = {
        ...completed,
        status: 'processing',
        attempts: 3,
        lastError: 'HTTP 503',
        outcome: null,
        completedAt: null,
        pendingActivityId: 'look-1',
      };
      const seen = { ...record, activityId: 'post-1' };
      assert.equal(runningView(memo, seen, state).attempts, 3, 'post-1 already counted by the workflow');
      assert.equal(
        runningView(memo, { ...seen, activityId: 'look-1' }, state).attempts,
        5,
        'look-1 still in flight',
      );
    });

    it('a final answer has counted the call describe() saw in flight: not added twice', function () {
      const view = runningView(memo, record, completed);
      assert.deepEqual({ ...view }, { ...pendingView(memo), ...completed });
    });

    it("a pending activity's calls: its attempt while one is in flight, none yet when just scheduled", function () {
      const { PendingActivityState } = temporal.api.enums.v1;
      const pending = (state: number, attempt: number) => ({ state, attempt });
      assert.equal(pendingCalls(undefined), 0);
      // Scheduled and not picked up yet (a paused run's next try, waiting for a worker under load): no call.
      assert.equal(pendingCalls(pending(PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, 1)), 0);
      // Waiting for its retry's backoff: the attempts before it.
      assert.equal(pendingCalls(pending(PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, 3)), 2);
      assert.equal(pendingCalls(pending(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, 3)), 3);
      assert.equal(pendingCalls(pending(PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED, 1)), 1);
    });
  });

  describe('a closed transaction', function () {
    it("is its final state; without a completion time, the run's close time", function () {
      assert.deepEqual(closedView(memo, completed), { ...pendingView(memo), ...completed });
      const closeTime = new Date('2026-11-23T10:09:00.000Z');
      const view = closedView(memo, { ...completed, completedAt: null }, closeTime);
      assert.equal(view.completedAt, closeTime.toISOString());
    });

    it("a failed run's state is its failure's details", function () {
      const state: ProcessingState = { ...completed, status: 'failed', lastError: 'HTTP 422', outcome: null };
      const err = new WorkflowFailedError(
        'failed',
        ApplicationFailure.create({ message: 'x', details: [state] }),
        RetryState.NON_RETRYABLE_FAILURE,
      );
      assert.deepEqual(failedState(err, { status: { name: 'FAILED' } }), state);
    });

    it('a terminated or timed-out run is failed, saying how it ended', function () {
      const closeTime = new Date('2026-11-23T11:00:00.000Z');
      const err = new WorkflowFailedError(
        'ended',
        new Error('reset by operator'),
        RetryState.NON_RETRYABLE_FAILURE,
      );
      assert.deepEqual(failedState(err, { status: { name: 'TERMINATED' }, closeTime }), {
        status: 'failed',
        attempts: 0,
        lastError: 'workflow terminated: reset by operator',
        outcome: null,
        completedAt: closeTime.toISOString(),
      });
    });
  });

  describe('a listed run', function () {
    const execution = (overrides: Partial<temporal.api.workflow.v1.IWorkflowExecutionInfo> = {}) => ({
      memo: {
        fields: {
          transaction: defaultPayloadConverter.toPayload(transaction),
          submittedAt: defaultPayloadConverter.toPayload(memo.submittedAt),
        },
      },
      searchAttributes: {
        indexedFields: { [TX_STATUS.name]: defaultPayloadConverter.toPayload('processing') },
      },
      status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
      ...overrides,
    });

    it('is read from its memo and TxStatus, with no completion time while it runs', function () {
      assert.deepEqual(listedView(execution()), {
        transaction,
        status: 'processing',
        submittedAt: memo.submittedAt,
        completedAt: null,
      });
    });

    it('a closed one completes at its close time (seconds and nanoseconds)', function () {
      const closed = execution({
        status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        searchAttributes: {
          indexedFields: { [TX_STATUS.name]: defaultPayloadConverter.toPayload('completed') },
        },
        closeTime: { ...msToTs(1_795_000_000_123), nanos: 123_456_789 },
      });
      const view = listedView(closed);
      assert.equal(view?.status, 'completed');
      assert.equal(view?.completedAt, new Date(1_795_000_000_123).toISOString());
    });

    it('a workflow without a transaction memo is not listed', function () {
      assert.equal(listedView({ ...execution(), memo: { fields: {} } }), null);
    });
  });

  describe('start options', function () {
    it('the transaction ID is the workflow ID; memo, search attributes and Web UI summary come from it', function () {
      const options = startOptions(memo, { taskQueue: 'q', policy }, WorkflowIdReusePolicy.REJECT_DUPLICATE);
      assert.equal(options.workflowId, transaction.id);
      assert.equal(options.taskQueue, 'q');
      assert.deepEqual(options.args, [{ transaction, policy }]);
      assert.deepEqual(options.memo, memo);
      const attributes = new Map(options.typedSearchAttributes.map((a) => [a.key.name, a.value]));
      assert.equal(attributes.get(TX_STATUS.name), 'pending');
      assert.equal(attributes.get(TX_AMOUNT.name), 150.5);
      assert.equal(attributes.get(TX_SOURCE_ACCOUNT.name), 'acc_a');
      assert.equal(options.staticSummary, '150.50 INR acc_a → acc_b');
      assert.match(options.staticDetails, /\*\*150\.50 INR\*\* — invoice 42/);
      assert.equal('requestEagerStart' in options, false);
      const eager = startOptions(
        memo,
        { taskQueue: 'q', policy, eagerStart: true },
        WorkflowIdReusePolicy.REJECT_DUPLICATE,
      );
      assert.equal(eager.requestEagerStart, true);
    });

    it('leaves out the accounts a transaction does not name', function () {
      const bare = {
        ...memo,
        transaction: { ...transaction, sourceAccount: null, destinationAccount: null },
      };
      const options = startOptions(bare, { taskQueue: 'q', policy }, WorkflowIdReusePolicy.REJECT_DUPLICATE);
      assert.deepEqual(options.typedSearchAttributes.map((a) => a.key.name).sort(), [
        'TxAmount',
        'TxAttempts',
        'TxCurrency',
        'TxPhase',
        'TxStatus',
      ]);
      assert.equal(options.staticSummary, '150.50 INR');
    });

    it("a retry waits out a stopped run's last POST and the settle window, not a failed run's", function () {
      const closeTime = new Date(1_000_000);
      assert.equal(retryDelayMs({ status: { name: 'FAILED' }, closeTime }, policy, 1_000_000), 0);
      assert.equal(retryDelayMs({ status: { name: 'TERMINATED' }, closeTime }, policy, 1_000_000), 7_000);
      assert.equal(retryDelayMs({ status: { name: 'TIMED_OUT' }, closeTime }, policy, 1_010_000), 0);
      assert.equal(retryDelayMs({ status: { name: 'TERMINATED' } }, policy, 1_000_000), 0);
    });
  });
});
