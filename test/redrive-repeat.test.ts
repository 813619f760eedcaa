import assert from 'node:assert/strict';
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { visibilityQuery } from '../src/api/transactions/list-query';
import type { Transaction } from '../src/domain/transaction';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { startWithRecord } from './support/ops-runs';
import { uniqueTaskQueue } from './support/temporal';

const RETRY = '/api/transactions/retry';
const FAILED = 6;
const LIMIT = 3;

/**
 * A redrive that stops at `limit` answers `more_may_match: true`, "send again for the rest" (docs/api.md). The
 * failed runs it retried stay in visibility, newest first; the repeat must not count them within its limit again,
 * or it would stop at the same ones and never reach the rest.
 */
describe('redrive past its limit, sent again, reaches the rest (real Temporal, worker, mock)', function () {
  this.timeout(120_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;
  let app: Express;
  const failed: Transaction[] = [];

  before(async function () {
    client = await testClient();
    mock = await startMock({ outage: true });
    taskQueue = uniqueTaskQueue('redrive-repeat');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 500 });
    app = testApp(client, taskQueue, fastPolicy(), { redriveMaxPerSecond: 50 }, {}, { rpcTimeoutMs: 15_000 });
    for (let i = 0; i < FAILED; i++) {
      const tx = newTransaction({ amount: `${i + 1}.50`, currency: 'EUR' });
      failed.push(tx);
      await startWithRecord(client, taskQueue, fastPolicy({ deadlineMs: 1_500 }), tx, {});
    }
    const count = async () =>
      (await client.workflow.count(visibilityQuery(taskQueue, { status: 'failed' }))).count;
    await eventually(async () => assert.equal(await count(), FAILED), 60_000, 500);
    mock.faults.update({ outage: false });
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  it('the second request retries the ones the first left', async function () {
    const first = await request(app).post(RETRY).send({ limit: LIMIT });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(
      [first.body.retried, first.body.more_may_match],
      [LIMIT, true],
      JSON.stringify(first.body),
    );
    await eventually(
      async () => assert.equal(failed.filter((t) => mock.store.copies(t.id) === 1).length, LIMIT),
      30_000,
      300,
    );

    const second = await request(app).post(RETRY).send({ limit: LIMIT });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.retried, FAILED - LIMIT, JSON.stringify(second.body));
    await eventually(() => assert.ok(failed.every((t) => mock.store.copies(t.id) === 1)), 30_000, 300);
  });

  it('a transaction whose older run completed and whose latest run failed still matches', async function () {
    const tx = newTransaction({ amount: '9.99', currency: 'EUR' });
    await startWithRecord(client, taskQueue, fastPolicy(), tx, {});
    const done = visibilityQuery(taskQueue, { status: 'completed' });
    await eventually(
      async () => assert.equal((await client.workflow.count(`${done} AND WorkflowId = "${tx.id}"`)).count, 1),
      30_000,
      300,
    );
    // A later run under the same ID (a start by hand, a reset) that fails: the downstream down past its deadline.
    mock.faults.update({ outage: true });
    await startWithRecord(
      client,
      taskQueue,
      fastPolicy({ deadlineMs: 1_500 }),
      tx,
      {},
      WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    );
    const failedNow = `${visibilityQuery(taskQueue, { status: 'failed' })} AND WorkflowId = "${tx.id}"`;
    await eventually(
      async () => assert.equal((await client.workflow.count(failedNow)).count, 1),
      30_000,
      300,
    );
    mock.faults.update({ outage: false });

    const dry = await request(app).post(RETRY).send({ dry_run: true, limit: 1_000 });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.ok(dry.body.ids.includes(tx.id), JSON.stringify(dry.body));
  });
});
