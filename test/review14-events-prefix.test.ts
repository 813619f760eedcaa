import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { deliveryWorkflowId, DELIVERY_WORKFLOW_TYPE, type DeliveryInput } from '../src/domain/callbacks';
import { testApp } from './support/api';
import { FAST_CALLBACKS } from './support/callback-stack';
import { fastPolicy, testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

// Review of issue 14. The event log lists a transaction's deliveries with `WorkflowId STARTS_WITH '<id>/events/'`.
// Transaction IDs may hold `_`, a LIKE wildcard in SQL visibility stores: unless the store escapes it, the
// events of `ab_c` would include those of `abXc`. No worker: the runs are only started, and listed.
describe("review14: a transaction's event log holds its own events only", function () {
  let app: Express;
  const taskQueue = uniqueTaskQueue('r14-prefix');

  before(async function () {
    app = testApp(
      await testClient(),
      taskQueue,
      fastPolicy(),
      { callbacks: { enabled: true, allowedHosts: [] } },
      {},
      { callbacks: { subscribers: [], policy: FAST_CALLBACKS } },
    );
  });

  it('an ID with `_` does not list the events of an ID that matches it as a pattern', async function () {
    const u = randomUUID().slice(0, 8);
    const [mine, other] = [`r14_${u}`, `r14X${u}`];
    for (const id of [mine, other]) {
      const res = await request(app).post('/api/transactions').send({ id, amount: '1.00', currency: 'EUR' });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    const eventId = `evt_${randomUUID()}_completed`;
    const input: DeliveryInput = {
      event: { id: eventId, type: 'transaction.completed', created_at: new Date().toISOString(), data: {} },
      url: 'https://receiver.example/hook',
      endpoint: 0,
      policy: FAST_CALLBACKS,
    };
    const client = await testClient();
    await client.workflow.start(DELIVERY_WORKFLOW_TYPE, {
      workflowId: deliveryWorkflowId(other, eventId, 0),
      taskQueue,
      args: [input],
      memo: { delivery: input },
    });
    // Visibility lags: wait until the other transaction lists it.
    for (let i = 0; i < 100; i++) {
      const theirs = await request(app).get(`/api/transactions/${other}/events`);
      if (theirs.body.items?.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await request(app).get(`/api/transactions/${other}/events`)).body.items.length, 1);
    const log = await request(app).get(`/api/transactions/${mine}/events`);
    assert.equal(log.status, 200);
    assert.deepEqual(log.body.items, [], `${mine} lists the events of ${other}`);
  });
});
