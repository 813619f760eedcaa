import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import { eventually } from './support/eventually';
import { testApp } from './support/api';
import { fastPolicy, testClient } from './support/harness';
import { FAST_CALLBACKS, startCallbackStack, type CallbackStack, type Json } from './support/callback-stack';

// Review of issue 14, "subscriber list changes". An operator removes a URL from CALLBACK_SUBSCRIBER_URLS (the
// receiver was retired, its domain may change hands). Redelivery replays the delivery runs' stored inputs, so
// any API client can still make txflow POST the transaction's data, signed, to the removed URL, for as long as
// Temporal keeps the runs. Expected: a redelivery goes only to endpoints still configured (the client's own
// callback_url and the current subscribers).
describe('review14: redeliver after a subscriber was removed from the configuration', function () {
  this.timeout(120_000);
  let stack: CallbackStack;
  let server: Server | undefined;

  before(async function () {
    stack = await startCallbackStack({ subscribers: (r) => [r.url('/retired-subscriber')] });
  });
  after(async function () {
    server?.closeAllConnections();
    server?.close();
    await stack?.stop();
  });

  it('does not send the event to the removed subscriber again', async function () {
    const id = `r14-${randomUUID()}`;
    const res = await stack.call('POST', '/api/transactions', {
      id,
      amount: '2.00',
      currency: 'EUR',
      source_account: 'acc_a',
      destination_account: 'acc_b',
    });
    assert.equal(res.status, 202);
    const toRetired = () =>
      stack.receiver
        .delivered()
        .filter((d) => d.path === '/retired-subscriber' && JSON.parse(d.body).data.transactionId === id);
    await eventually(() => assert.equal(toRetired().length, 1), 60_000);
    const eventId = await eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
      assert.equal(log.items[0]?.deliveries[0]?.state, 'delivered');
      return log.items[0].id as string;
    });

    // The API restarted without that subscriber (same Temporal, same task queue, same worker).
    const app = testApp(
      await testClient(),
      stack.taskQueue,
      fastPolicy({ deadlineMs: 5_000 }),
      { callbacks: { enabled: true, allowedHosts: [`127.0.0.1:${stack.receiver.port}`] } },
      {},
      { callbacks: { subscribers: [], policy: FAST_CALLBACKS } },
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const answer = await fetch(`${base}/api/transactions/${id}/events/${eventId}/redeliver`, {
      method: 'POST',
    });
    const body = (await answer.json()) as Json;

    await sleep(3_000); // a delivery to a live loopback receiver takes well under a second
    assert.equal(
      toRetired().length,
      1,
      `a client's redelivery reached the retired subscriber again (answer ${answer.status} ${JSON.stringify(body)})`,
    );
  });
});
