import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { fetch } from 'undici';
import { verifySignature } from '../src/callbacks/signature';
import { eventually } from './support/eventually';
import { WorkflowFailedError } from '@temporalio/client';
import { deliveryWorkflowId, type DeliveryInput } from '../src/domain/callbacks';
import { deliverEvent } from '../src/workflows';
import { testClient } from './support/harness';
import {
  FAST_CALLBACKS,
  SECRET,
  startCallbackStack,
  type CallbackStack,
  type Json,
} from './support/callback-stack';

const submission = (callbackUrl: string, extra: Record<string, unknown> = {}) => ({
  id: `cb-${randomUUID()}`,
  amount: '12.50',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  callback_url: callbackUrl,
  ...extra,
});

describe('callbacks: signed final-status events delivered by Temporal', function () {
  this.timeout(120_000);
  let stack: CallbackStack;

  before(async function () {
    stack = await startCallbackStack();
  });
  after(async function () {
    await stack?.stop();
  });
  beforeEach(function () {
    stack.receiver.setFaults({});
    stack.mock.faults.update({ preWriteFailureRate: 0, getFailureRate: 0 });
  });

  /** Submits, waits for the final status, then for `count` 2xx deliveries of its event; returns them. */
  async function delivered(body: Record<string, unknown>, count = 1) {
    const res = await stack.call('POST', '/api/transactions', body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = body.id as string;
    const final = await eventually(async () => {
      const view = (await stack.call('GET', `/api/transactions/${id}`)).body;
      assert.match(view.status, /completed|failed|cancelled/);
      return view;
    }, 60_000);
    const matching = () =>
      stack.receiver.delivered().filter((d) => JSON.parse(d.body).data.transactionId === id);
    await eventually(() => assert.equal(matching().length, count), 60_000);
    return { id, final, deliveries: matching() };
  }

  it('delivers one verifiable event per final status, its data the API view, its ID in a header', async function () {
    const { id, final, deliveries } = await delivered(submission(stack.receiver.url()));
    const [delivery] = deliveries;
    assert.ok(delivery);
    const event = JSON.parse(delivery.body);
    assert.equal(event.type, 'transaction.completed');
    assert.match(event.id, /^evt_/);
    assert.equal(delivery.eventId, event.id, 'Txflow-Event-Id repeats the event ID');
    // Once the run has closed, GET shows exactly what the event carries.
    await eventually(async () =>
      assert.deepEqual(event.data, (await stack.call('GET', `/api/transactions/${id}`)).body, 'data = GET'),
    );
    assert.equal(final.status, 'completed');
    assert.ok(Date.parse(event.created_at) > 0);
    assert.ok(delivery.verified, 'the receiver verified the signature');
    assert.match(delivery.signature ?? '', /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifySignature(SECRET, delivery.signature, delivery.body.replace('12.50', '99.50')), false);
    assert.equal(verifySignature('another-secret-0123456789', delivery.signature, delivery.body), false);
    // No second delivery shows up later.
    await sleep(1_500);
    assert.equal(stack.receiver.delivered(event.id).length, 1);
    const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
    assert.equal(log.items.length, 1);
    assert.equal(log.items[0].id, event.id);
    assert.deepEqual(
      log.items[0].deliveries.map((d: Json) => [d.endpoint, d.state, d.attempts, d.last_status]),
      [[0, 'delivered', 1, 200]],
    );
  });

  it('retries 5xx answers and a timeout, and delivers once', async function () {
    stack.receiver.setFaults({ fail5xx: 2, hang: 1 });
    const { id, deliveries } = await delivered(submission(stack.receiver.url()));
    const eventId = JSON.parse(deliveries[0]?.body ?? '{}').id;
    assert.deepEqual(
      stack.receiver.deliveries.filter((d) => d.eventId === eventId).map((d) => d.answered),
      ['hang', 503, 503, 200],
    );
    await sleep(1_500);
    assert.equal(stack.receiver.delivered(eventId).length, 1);
    const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
    assert.equal(log.items[0].deliveries[0].attempts, 4);
  });

  it('a receiver that refuses connections neither delays nor changes the outcome; delivered once it is back', async function () {
    await stack.receiver.off();
    try {
      const body = submission(stack.receiver.url());
      assert.equal((await stack.call('POST', '/api/transactions', body)).status, 202);
      await eventually(async () => {
        assert.equal((await stack.call('GET', `/api/transactions/${body.id}`)).body.status, 'completed');
      }, 10_000);
      const log = await eventually(async () => {
        const items = (await stack.call('GET', `/api/transactions/${body.id}/events`)).body.items;
        assert.equal(items[0]?.deliveries[0]?.state, 'delivering');
        assert.ok(items[0].deliveries[0].attempts >= 1);
        // The first attempt shows in describe() while it runs; its error only once it has failed.
        assert.match(items[0].deliveries[0].last_error ?? '', /ECONNREFUSED|connect/i);
        return items;
      });
      // While it is in flight, a redelivery is refused.
      const refused = await stack.call('POST', `/api/transactions/${body.id}/events/${log[0].id}/redeliver`);
      assert.equal(refused.status, 409);
      await stack.receiver.on();
      await eventually(() => assert.equal(stack.receiver.delivered(log[0].id).length, 1), 30_000);
    } finally {
      await stack.receiver.on().catch(() => undefined);
    }
  });

  it('a 410 stops the delivery after one attempt', async function () {
    stack.receiver.setFaults({ gone: true });
    const body = submission(stack.receiver.url());
    assert.equal((await stack.call('POST', '/api/transactions', body)).status, 202);
    const items = await eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${body.id}/events`)).body.items;
      assert.equal(log[0]?.deliveries[0]?.state, 'stopped_by_410');
      return log;
    }, 30_000);
    assert.equal(items[0].deliveries[0].attempts, 1);
    assert.equal(items[0].deliveries[0].last_status, 410);
    assert.equal(stack.receiver.deliveries.filter((d) => d.eventId === items[0].id).length, 1);
  });

  it('a failed transaction is announced as transaction.failed', async function () {
    stack.mock.faults.update({ preWriteFailureRate: 1 });
    const id = `cb-${randomUUID()}`;
    // The webhook dialect: the event shows it as that dialect does.
    const res = await stack.call('POST', '/v1/webhooks/transactions', {
      transaction_id: id,
      source_account: 'acc_a',
      destination_account: 'acc_b',
      amount: '3.00',
      currency: 'EUR',
      callback_url: stack.receiver.url('/v1-hook'),
    });
    assert.equal(res.status, 202);
    await eventually(
      () =>
        assert.equal(
          stack.receiver
            .delivered()
            .filter((d) => d.path === '/v1-hook' && JSON.parse(d.body).data.transaction_id === id).length,
          1,
        ),
      90_000,
    );
    const event = JSON.parse(
      stack.receiver.delivered().find((d) => JSON.parse(d.body).data.transaction_id === id)?.body ?? '{}',
    );
    assert.equal(event.type, 'transaction.failed');
    assert.equal(event.data.status, 'FAILED');
    // The same view but for processed_at: a failed run's is its close time, a moment after the event was made.
    const { processed_at: processedAt, ...rest } = (await stack.call('GET', `/v1/transactions/${id}`)).body;
    const { processed_at: announcedAt, ...data } = event.data;
    assert.deepEqual(data, rest);
    assert.ok(
      Math.abs(Date.parse(processedAt) - Date.parse(announcedAt)) < 5_000,
      `${processedAt} ${announcedAt}`,
    );
  });

  it('a transaction cancelled from outside (handle.cancel) is announced as transaction.cancelled', async function () {
    // Every look at the downstream fails: the transaction waits before its POST, where a cancel counts.
    stack.mock.faults.update({ getFailureRate: 1 });
    const body = submission(stack.receiver.url());
    assert.equal((await stack.call('POST', '/api/transactions', body)).status, 202);
    await (await testClient()).workflow.getHandle(body.id).cancel();
    await eventually(() => {
      const events = stack.receiver.delivered().map((d) => JSON.parse(d.body));
      const event = events.find((e) => e.data.transactionId === body.id);
      assert.equal(event?.type, 'transaction.cancelled');
      assert.equal(event?.data.status, 'cancelled');
    }, 30_000);
    assert.equal((await stack.call('GET', `/api/transactions/${body.id}`)).body.status, 'cancelled');
  });

  it('gives up once the window has passed: the delivery run fails, the log says gave_up', async function () {
    stack.receiver.setFaults({ fail5xx: 1_000 });
    const body = submission(stack.receiver.url());
    const { callback_url: _, ...withoutCallback } = body;
    assert.equal((await stack.call('POST', '/api/transactions', withoutCallback)).status, 202);
    // A delivery as announce() starts it, with a 3 s window.
    const input: DeliveryInput = {
      event: {
        id: `evt_${randomUUID()}`,
        type: 'transaction.completed',
        created_at: new Date().toISOString(),
        data: {},
      },
      url: stack.receiver.url('/never'),
      endpoint: 0,
      policy: { ...FAST_CALLBACKS, windowMs: 3_000 },
    };
    const handle = await (
      await testClient()
    ).workflow.start(deliverEvent, {
      workflowId: deliveryWorkflowId(body.id, input.event.id, 0),
      taskQueue: stack.taskQueue,
      args: [input],
      memo: { delivery: input },
    });
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError);
    const items = await eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${body.id}/events`)).body.items;
      assert.equal(log[0]?.deliveries[0]?.state, 'gave_up');
      return log;
    });
    assert.ok(items[0].deliveries[0].attempts >= 2, JSON.stringify(items));
    assert.equal(items[0].deliveries[0].last_status, 503);
  });

  it('redelivers an event on request: same ID and body, signed anew; 404 for an unknown event', async function () {
    const { id, deliveries } = await delivered(submission(stack.receiver.url()));
    const first = deliveries[0];
    assert.ok(first);
    const eventId = first.eventId as string;
    // The receiver has answered; the delivery's run closes a moment later (until then: 409).
    await eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
      assert.equal(log.items[0]?.deliveries[0]?.state, 'delivered');
    });
    const res = await stack.call('POST', `/api/transactions/${id}/events/${eventId}/redeliver`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body, { event_id: eventId, deliveries_started: 1 });
    await eventually(() => assert.equal(stack.receiver.delivered(eventId).length, 2), 30_000);
    const again = stack.receiver.delivered(eventId)[1];
    assert.equal(again?.body, first.body);
    assert.ok(again?.verified);
    const unknown = await stack.call(
      'POST',
      `/api/transactions/${id}/events/evt_00000000-0000-0000-0000-000000000000/redeliver`,
    );
    assert.equal(unknown.status, 404);
    const metrics = await fetch(`${stack.base}/metrics`).then((r) => r.text());
    assert.match(metrics, /^txflow_api_callback_redeliveries_total\{outcome="started"\} 1$/m);
    assert.match(metrics, /^txflow_api_callback_redeliveries_total\{outcome="not_found"\} 1$/m);
    const bad = await stack.call('POST', `/api/transactions/${id}/events/nope/redeliver`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'path.eventId');
  });
});
