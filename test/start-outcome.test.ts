// A workflow start whose answer never comes (issue 12, item 6): Temporal may have recorded it, so the API's
// 503 must say the outcome is unknown and name the transaction's ID (also one the API generated), and a
// resend under that ID must find the one workflow instead of starting another. Modelled for real: a TCP proxy
// between the API's client and the test Temporal server holds the server's answers past the API's deadline,
// while the start itself reaches the server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { fromApiBody } from '../src/api/transactions/submission';
import { StartOutcomeUnknownError } from '../src/api/temporal/temporal-errors';
import { TransactionsService } from '../src/api/transactions/transactions-service';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, testClient } from './support/harness';
import { startPausableProxy, type PausableProxy } from './support/tcp-proxy';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

const apiBody = {
  amount: '12.34',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
};

function assertUnknownOutcome(res: request.Response, id: string, location: string) {
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  assert.ok(Number(res.headers['retry-after']) > 0);
  assert.equal(res.body.title, 'Outcome unknown');
  assert.equal(res.body.transaction_id, id);
  assert.equal(res.headers.location, location);
  assert.match(res.body.detail, /may or may not have been started/);
  assert.doesNotMatch(res.body.detail, /nothing was started/);
  assert.ok(res.body.detail.includes(id), res.body.detail);
}

describe('a workflow start that gets no answer', function () {
  this.timeout(60_000);
  let proxy: PausableProxy;
  let connection: Connection;
  let app: Express;
  const ids: string[] = [];

  before(async function () {
    proxy = await startPausableProxy(testTemporalAddress());
    connection = await Connection.connect({ address: proxy.address });
    const client = new Client({ connection, namespace: 'default' });
    // No worker: the started workflows wait on their own task queue, which is all this test looks at.
    app = testApp(client, uniqueTaskQueue('start-outcome'), undefined, {}, {}, { rpcTimeoutMs: 1_000 });
  });

  afterEach(() => proxy.resume());

  after(async function () {
    const client = await testClient();
    for (const id of ids) {
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
    await connection?.close();
    await proxy?.close();
  });

  /** The runs under `id` as the server holds them (direct, not through the proxy), once visibility has them. */
  async function runsOf(id: string): Promise<string[]> {
    const client = await testClient();
    return eventually(async () => {
      const runs: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = "${id}"` })) runs.push(wf.runId);
      assert.ok(runs.length > 0, `no run of ${id} listed yet`);
      return runs;
    });
  }

  it('POST /api/transactions without an ID: 503 naming the generated ID; the start was recorded and a resend under it finds that one run', async function () {
    proxy.pauseAnswers();
    const res = await request(app).post('/api/transactions').send(apiBody);
    assert.ok(proxy.heldBytes > 0, 'the proxy held the answer');
    proxy.resume();
    const id = String(res.body.transaction_id);
    ids.push(id);
    assert.match(id, /^[0-9a-f-]{36}$/, 'a generated UUID');
    assertUnknownOutcome(res, id, `/api/transactions/${id}`);

    // What the 503 must not deny: the server recorded the start although the API never got its answer.
    const recorded = await (await testClient()).workflow.getHandle(id).describe();
    assert.equal(recorded.type, 'processTransaction');

    const again = await request(app)
      .post('/api/transactions')
      .send({ ...apiBody, id });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.transactionId, id);
    assert.deepEqual(await runsOf(id), [recorded.runId], 'one run, the first');
  });

  it('the webhook dialect: 503 naming its transaction_id; the redelivery finds the one run', async function () {
    const id = `outcome-wh-${randomUUID()}`;
    ids.push(id);
    const delivery = { ...apiBody, transaction_id: id };
    proxy.pauseAnswers();
    const res = await request(app).post('/v1/webhooks/transactions').send(delivery);
    proxy.resume();
    assertUnknownOutcome(res, id, `/v1/transactions/${id}`);

    const again = await request(app).post('/v1/webhooks/transactions').send(delivery);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    const recorded = await (await testClient()).workflow.getHandle(id).describe();
    assert.deepEqual(await runsOf(id), [recorded.runId]);
  });
});

describe('a workflow start whose connection is refused', function () {
  this.timeout(60_000);

  it('nothing listens: still "outcome unknown", naming the generated ID', async function () {
    // Nothing listens on port 1: the connection is refused.
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const app = testApp(client, 'refused');
    const res = await request(app).post('/api/transactions').send(apiBody);
    const id = String(res.body.transaction_id);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assertUnknownOutcome(res, id, `/api/transactions/${id}`);
  });

  it('is no proof that nothing was started: an attempt reached the server, the retries found none', async function () {
    const proxy = await startPausableProxy(testTemporalAddress());
    const connection = await Connection.connect({ address: proxy.address });
    const id = `outcome-refused-${randomUUID()}`;
    try {
      const client = new Client({ connection, namespace: 'default' });
      const service = new TransactionsService({
        client,
        taskQueue: uniqueTaskQueue('start-outcome'),
        policy: fastPolicy(),
        queryDeadlineMs: 60,
        rpcTimeoutMs: 5_000,
      });
      proxy.pauseAnswers();
      const submitting = service.submit(fromApiBody(apiBody, id, new Date()));
      // The start reached the server and was recorded; its answer is held.
      await eventually(() => testClient().then((c) => c.workflow.getHandle(id).describe()), 10_000);
      // The server goes away: the connection drops, and the client's own retries are refused.
      await proxy.close();
      await assert.rejects(submitting, (err: Error) => {
        // The last attempt's error says it never reached the server (refused, or still waiting for a
        // connection at the deadline: no remote_addr), yet the first attempt's start was recorded.
        assert.match(err.message, /ECONNREFUSED|No connection established|waiting for|Waiting for LB pick/);
        assert.doesNotMatch(err.message, /remote_addr/);
        assert.ok(err instanceof StartOutcomeUnknownError, `${err.name}: ${err.message}`);
        assert.equal(err.transactionId, id);
        return true;
      });
    } finally {
      await (
        await testClient()
      ).workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
      await connection.close();
      await proxy.close().catch(() => undefined);
    }
  });
});
