// Callbacks through the two other ways a transaction starts: a batch item's callback_url, and a retry of a
// failed transaction, whose second final status is a second event.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './support/eventually';
import { startCallbackStack, type CallbackStack, type Json } from './support/callback-stack';

const item = (extra: Record<string, unknown> = {}) => ({
  id: `cb-${randomUUID()}`,
  amount: '6.00',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  ...extra,
});

describe('callbacks from a batch item and across a retry', function () {
  this.timeout(180_000);
  let stack: CallbackStack;

  before(async function () {
    stack = await startCallbackStack();
  });
  after(async function () {
    await stack?.stop();
  });
  beforeEach(function () {
    stack.receiver.setFaults({});
    stack.mock.faults.update({ preWriteFailureRate: 0 });
  });

  /** The receiver's 2xx deliveries of the transaction's events, parsed. */
  const eventsOf = (id: string) =>
    stack.receiver
      .delivered()
      .filter((d) => JSON.parse(d.body).data.transactionId === id)
      .map((d) => ({ ...d, event: JSON.parse(d.body) as Json }));

  it("a batch item's callback_url gets its event; a refused one is invalid by its index while its siblings start", async function () {
    const withCallback = item({ callback_url: stack.receiver.url('/batch') });
    const refused = item({ callback_url: 'http://example.com/hook' });
    const without = item();
    const res = await stack.call('POST', '/api/transactions/batch', {
      transactions: [withCallback, refused, without],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.results.map((r: Json) => [r.index, r.status]),
      [
        [0, 'accepted'],
        [1, 'invalid'],
        [2, 'accepted'],
      ],
    );
    assert.deepEqual(
      res.body.results[1].errors.map((e: Json) => e.field),
      ['body.transactions[1].callback_url'],
    );
    assert.match(res.body.results[1].errors[0].message, /https/);
    assert.equal((await stack.call('GET', `/api/transactions/${refused.id}`)).status, 404, 'not started');

    await eventually(() => assert.equal(eventsOf(withCallback.id).length, 1), 60_000);
    const [delivery] = eventsOf(withCallback.id);
    assert.equal(delivery?.path, '/batch');
    assert.ok(delivery?.verified, 'verified by the receiver');
    assert.equal(delivery.event.type, 'transaction.completed');
    assert.equal(delivery.event.data.status, 'completed');
    // The sibling without a callback_url completes and announces nothing.
    await eventually(async () => {
      const view = (await stack.call('GET', `/api/transactions/${without.id}`)).body;
      assert.equal(view.status, 'completed');
    }, 60_000);
    const none = await stack.call('GET', `/api/transactions/${without.id}/events`);
    assert.deepEqual(none.body.items, []);
    await sleep(1_500);
    assert.equal(eventsOf(withCallback.id).length, 1, 'delivered once');
    assert.equal(eventsOf(without.id).length, 0);
  });

  it('failed, retried through the API, then completed: transaction.failed then transaction.completed, two IDs, each delivered once', async function () {
    // Every POST fails before writing until the 5 s deadline: the first run ends failed.
    stack.mock.faults.update({ preWriteFailureRate: 1 });
    const body = item({ callback_url: stack.receiver.url('/retried') });
    assert.equal((await stack.call('POST', '/api/transactions', body)).status, 202);
    await eventually(() => assert.equal(eventsOf(body.id).length, 1), 60_000);
    const [failed] = eventsOf(body.id);
    assert.equal(failed?.event.type, 'transaction.failed');
    assert.equal(failed.event.data.status, 'failed');
    assert.equal((await stack.call('GET', `/api/transactions/${body.id}`)).body.status, 'failed');

    stack.mock.faults.update({ preWriteFailureRate: 0 });
    const retry = await stack.call('POST', `/api/transactions/${body.id}/retry`);
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    await eventually(() => assert.equal(eventsOf(body.id).length, 2), 60_000);
    const completed = eventsOf(body.id)[1];
    assert.equal(completed?.event.type, 'transaction.completed');
    assert.equal(completed.event.data.status, 'completed');
    assert.ok(completed.verified && failed.verified);
    // Two events of two run chains: distinct IDs, the later one made after the first.
    assert.notEqual(completed.event.id, failed.event.id);
    assert.match(failed.event.id, /_failed$/);
    assert.match(completed.event.id, /_completed$/);
    assert.notEqual(completed.event.id.replace(/_completed$/, ''), failed.event.id.replace(/_failed$/, ''));
    assert.ok(completed.event.created_at > failed.event.created_at);
    assert.equal(stack.mock.store.copies(body.id), 1, 'posted once, by the retry');

    await sleep(1_500);
    assert.equal(stack.receiver.delivered(failed.event.id).length, 1, 'the failed event once');
    assert.equal(stack.receiver.delivered(completed.event.id).length, 1, 'the completed event once');
    // The log lists both, oldest first, each delivered.
    await eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${body.id}/events`)).body;
      assert.deepEqual(
        log.items.map((e: Json) => [e.id, e.type, e.deliveries.map((d: Json) => d.state)]),
        [
          [failed.event.id, 'transaction.failed', ['delivered']],
          [completed.event.id, 'transaction.completed', ['delivered']],
        ],
      );
    });
  });
});
