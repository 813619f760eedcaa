import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from './support/api';
import { CallbackReceiver } from './support/callback-receiver';
import { FAST_CALLBACKS, SECRET } from './support/callback-stack';
import { eventually } from './support/eventually';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import {
  assertCallbackBudget,
  callbackSettings,
  CALLBACK_METADATA_BUDGET_BYTES,
} from '../src/config/callbacks';

// Review of issue 14, "a failing receiver never delays or changes the transaction's outcome", at the largest
// metadata the configuration allows. Each announced endpoint is a child start that carries the event (with the
// metadata) twice, as its input and as its memo, and all of them go in the run's last workflow task completion:
// with 1 MiB of metadata, a client callback_url and two subscribers that was ~6 MB, over Temporal's 4 MiB
// limit, and the run never closed (its last workflow task failed again and again). Now the API refuses to start
// with METADATA_LIMIT_BYTES x endpoints over 1 MiB; at the largest it allows, the run closes and delivers.
const METADATA_LIMIT = Math.floor(CALLBACK_METADATA_BUDGET_BYTES / 3);
describe('review14: announcing a transaction with the largest metadata to three endpoints', function () {
  this.timeout(180_000);
  let app: Express;
  let mock: RunningMock;
  let receiver: CallbackReceiver;
  let worker: RunningWorker;
  const taskQueue = uniqueTaskQueue('r14-large');

  before(async function () {
    mock = await startMock();
    receiver = await CallbackReceiver.start(SECRET);
    const allowedHosts = [`127.0.0.1:${receiver.port}`];
    worker = await startWorker({
      taskQueue,
      postingUrl: mock.url,
      callbacks: { signingSecret: SECRET, allowedHosts },
    });
    app = testApp(
      await testClient(),
      taskQueue,
      fastPolicy({ deadlineMs: 5_000 }),
      {
        callbacks: { enabled: true, allowedHosts },
        bodyLimitBytes: 2 * 1024 * 1024,
        metadataLimitBytes: METADATA_LIMIT,
      },
      {},
      {
        callbacks: { subscribers: [receiver.url('/sub-1'), receiver.url('/sub-2')], policy: FAST_CALLBACKS },
      },
    );
  });
  after(async function () {
    await worker?.stop();
    await receiver?.off();
    await mock?.stop();
  });

  it('the API refuses METADATA_LIMIT_BYTES x endpoints over the budget, naming the variable', function () {
    const callbacks = callbackSettings({
      CALLBACK_SIGNING_SECRET: SECRET,
      CALLBACK_SUBSCRIBER_URLS: 'https://a.example/1,https://b.example/2',
    });
    assert.throws(
      () => assertCallbackBudget(1024 * 1024, callbacks),
      /METADATA_LIMIT_BYTES="1048576": with callbacks on, times the 3 endpoints .* at most 349525/,
    );
    assertCallbackBudget(METADATA_LIMIT, callbacks);
    assertCallbackBudget(1024 * 1024, callbackSettings({})); // callbacks off: no limit from them
  });

  it('at the largest metadata allowed, closes the run with its outcome and delivers to every endpoint', async function () {
    const id = `r14-${randomUUID()}`;
    const res = await request(app)
      .post('/api/transactions')
      .send({
        id,
        amount: '1.00',
        currency: 'EUR',
        source_account: 'acc_a',
        destination_account: 'acc_b',
        callback_url: receiver.url('/client'),
        metadata: { note: 'x'.repeat(METADATA_LIMIT - 20) },
      });
    assert.equal(res.status, 202, JSON.stringify(res.body).slice(0, 500));
    const client = await testClient();
    await eventually(
      async () => {
        const d = await client.workflow.getHandle(id).describe();
        if (d.status.name !== 'RUNNING') return;
        // Why not: the run's history so far (its events hold the metadata several times over).
        const info = d.raw.workflowExecutionInfo;
        assert.fail(
          `the run of ${id} has not closed: ${String(info?.historyLength)} events, ` +
            `${String(info?.historySizeBytes)} bytes of history, pending workflow task attempt ` +
            `${d.raw.pendingWorkflowTask?.attempt ?? '-'}; deliveries received: ${receiver.deliveries.length}`,
        );
      },
      45_000,
      500,
    );
    await eventually(() => assert.equal(receiver.delivered().length, 3), 30_000, 500);
  });
});
