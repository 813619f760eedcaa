import assert from 'node:assert/strict';
import request from 'supertest';
import { startOptions } from '../src/api/transactions/start-options';
import type { TransactionMemo } from '../src/api/transactions/transaction-view';
import type { ProcessingPolicy, Transaction } from '../src/domain/transaction';
import type { BreakerOptions } from '../src/posting/circuit-breaker';
import { processTransaction } from '../src/workflows';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { useWorkflowEnv } from './support/workflow-env';
import { fastPolicy, newTransaction } from './support/harness';

const BREAKER: BreakerOptions = {
  failureRatio: 0.5,
  windowMs: 10_000,
  minCalls: 3,
  // Open for the whole test: no probe closes it.
  probeIntervalMs: 30_000,
  maxPauseMs: 30_000,
};

/**
 * Review of issue 15: a paused transaction shows "the breaker's last failure" as its lastError (GET view, memo,
 * listing, and the callback event if it then fails by its deadline). That failure is the worker's, not the
 * transaction's: the last call that failed on this worker, for whichever transaction, with its ID in the path.
 * One client's transaction must not show (or announce to its callback URL) another transaction's ID.
 */
describe("review15: a paused transaction's last error names no other transaction (real server, worker, mock)", function () {
  this.timeout(60_000);
  const env = useWorkflowEnv({
    queuePrefix: 'review15-last-error',
    worker: {
      postingTimeoutMs: 2_000,
      breaker: BREAKER,
    },
  });

  const start = (tx: Transaction, policy: ProcessingPolicy) => {
    const memo: TransactionMemo = {
      transaction: tx,
      fingerprint: `fp-${tx.id}`,
      submittedAt: new Date().toISOString(),
    };
    return env.client.workflow.start(processTransaction, {
      ...startOptions(memo, { taskQueue: env.taskQueue, policy }, WorkflowIdReusePolicy.REJECT_DUPLICATE),
    });
  };

  it("shows its own failure, not the other transaction's", async function () {
    // Every read fails (503): the check of each transaction fails and is retried.
    env.mock.faults.update({ getFailureRate: 1 });
    const mine = newTransaction({ id: `r15-mine-${Date.now()}` });
    const theirs = newTransaction({ id: `r15-theirs-${Date.now()}` });
    // Mine: one failed check, then a long wait before its next attempt.
    const slow = fastPolicy({ check: { startToCloseTimeout: 3_000, retry: { initialInterval: 4_000 } } });
    await start(mine, slow);
    await eventually(async () => assert.ok(env.mock.store.stats().faults.getFailure >= 1), 10_000, 50);
    // Theirs fails its checks meanwhile and opens the breaker: the worker's last failure is theirs.
    await start(theirs, fastPolicy());
    const api = testApp(env.client, env.taskQueue, fastPolicy(), {}, {}, { queryDeadlineMs: 2_000 });
    // Mine's next attempt finds the breaker open: paused.
    const view = await eventually(async () => {
      const res = await request(api).get(`/api/transactions/${mine.id}`);
      assert.equal(res.body.phase, 'paused', JSON.stringify(res.body));
      return res.body as { lastError: string | null };
    }, 20_000);
    const memo = (await env.client.workflow.getHandle(mine.id).describe()).memo ?? {};
    for (const shown of [view.lastError, memo.lastError]) {
      assert.ok(!String(shown).includes(theirs.id), `mine shows: ${String(shown)}`);
    }
    await env.client.workflow.getHandle(mine.id).terminate('test over');
    await env.client.workflow.getHandle(theirs.id).terminate('test over');
  });
});
