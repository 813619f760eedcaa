import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { visibilityQuery } from '../src/api/transactions/list-query';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { startWithRecord } from './support/ops-runs';
import { uniqueTaskQueue } from './support/temporal';

const RETRY = '/api/transactions/retry';

/**
 * Review of issue 15: a redrive's error filter must judge a transaction by its LATEST failed run. Visibility keeps
 * every run, so an ID whose first run failed in an outage (deadline) and whose redriven run was then refused by the
 * ledger (rejected) still has a failed run with kind `deadline`. Redriving "the outage failures" again must not
 * run a refused payment once more.
 */
describe('review15: redrive filters judge the latest failed run (real Temporal, worker, mock over HTTP)', function () {
  this.timeout(120_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;
  let app: Express;

  const runsOf = async (id: string) => {
    const runs: { status: string }[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = "${id}"` })) {
      runs.push({ status: run.status.name });
    }
    return runs;
  };

  before(async function () {
    client = await testClient();
    mock = await startMock({ outage: true });
    taskQueue = uniqueTaskQueue('review15-redrive');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 500 });
    app = testApp(client, taskQueue, fastPolicy(), { redriveMaxPerSecond: 50 }, {}, { rpcTimeoutMs: 15_000 });
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  it('does not redrive a transaction whose latest run was rejected because an older run failed by deadline', async function () {
    // The ledger refuses this one once it answers (the mock refuses a zero amount with a 400).
    const refused = newTransaction({ amount: '0.00', currency: 'EUR' });
    await startWithRecord(client, taskQueue, fastPolicy({ deadlineMs: 1_500 }), refused, {});
    const failedRuns = () =>
      client.workflow.count(
        `${visibilityQuery(taskQueue, { status: 'failed' })} AND WorkflowId = "${refused.id}"`,
      );
    await eventually(async () => assert.equal((await failedRuns()).count, 1), 60_000, 500);

    // The outage ends; the operator redrives the outage's failures: run 2 is refused by the ledger.
    mock.faults.update({ outage: false });
    const first = await request(app).post(RETRY).send({ error_kind: 'deadline' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.retried, 1, JSON.stringify(first.body));
    await eventually(async () => assert.equal((await failedRuns()).count, 2), 60_000, 500);
    const latest = await request(app).get(`/api/transactions/${refused.id}`);
    assert.equal(latest.body.status, 'failed');
    assert.match(String(latest.body.lastError), /400|amount/, JSON.stringify(latest.body));

    // Redriving the outage's failures again: this transaction's latest failure is a refusal, not the outage.
    const dry = await request(app).post(RETRY).send({ error_kind: 'deadline', dry_run: true });
    assert.deepEqual(dry.body.ids, [], `matched by its older run: ${JSON.stringify(dry.body)}`);
    const again = await request(app).post(RETRY).send({ error_kind: 'deadline' });
    assert.equal(again.body.retried, 0, JSON.stringify(again.body));
    assert.equal((await runsOf(refused.id)).length, 2);
  });
});
