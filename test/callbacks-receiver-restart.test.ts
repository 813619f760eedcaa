// A receiver that fails, then goes away (connections refused) while its delivery retries, then comes back: the
// delivery log shows the retrying as it happens, and the event arrives exactly once, verifiably signed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifySignature } from '../src/callbacks/signature';
import { eventually } from './support/eventually';
import { SECRET, startCallbackStack, type CallbackStack, type Json } from './support/callback-stack';

describe('callbacks: the receiver restarted while a delivery retries', function () {
  this.timeout(120_000);
  let stack: CallbackStack;

  before(async function () {
    stack = await startCallbackStack();
  });
  after(async function () {
    await stack?.stop();
  });

  /** The transaction's one delivery as GET /events shows it. */
  async function delivery(id: string): Promise<Json> {
    const res = await stack.call('GET', `/api/transactions/${id}/events`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.items.length, 1, JSON.stringify(res.body));
    return { eventId: res.body.items[0].id, ...res.body.items[0].deliveries[0] };
  }

  it('GET /events shows attempts, the last status or error and next_attempt_at while it fails; delivered once after restart()', async function () {
    // 503s until it goes away, so the log has an HTTP status to show and nothing is taken before the restart.
    stack.receiver.setFaults({ fail5xx: 1_000 });
    const id = `cb-restart-${randomUUID()}`;
    const res = await stack.call('POST', '/api/transactions', {
      id,
      amount: '8.00',
      currency: 'EUR',
      callback_url: stack.receiver.url('/restart'),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));

    // Between attempts after the 503: state delivering, one attempt made, the next one scheduled.
    const afterFailure = await eventually(async () => {
      const d = await delivery(id);
      assert.equal(d.state, 'delivering');
      assert.equal(d.last_status, 503);
      assert.notEqual(d.next_attempt_at, null, JSON.stringify(d));
      return d;
    }, 30_000);
    assert.ok(afterFailure.attempts >= 1, JSON.stringify(afterFailure));
    assert.match(afterFailure.last_error, /503/);
    assert.ok(Date.parse(afterFailure.next_attempt_at) > Date.parse('2020-01-01'), 'a time');

    // The receiver goes away: the next attempts find nothing listening. Once back, it answers 200.
    await stack.receiver.off();
    stack.receiver.setFaults({});
    const whileOff = await eventually(async () => {
      const d = await delivery(id);
      assert.equal(d.state, 'delivering');
      assert.match(d.last_error ?? '', /ECONNREFUSED|connect/i);
      assert.equal(d.last_status, null, 'no HTTP answer this time');
      assert.ok(d.attempts >= 2, JSON.stringify(d));
      assert.notEqual(d.next_attempt_at, null, JSON.stringify(d));
      return d;
    }, 30_000);
    // Still retrying: the count goes on, the next attempt moves later.
    await eventually(async () => {
      const d = await delivery(id);
      assert.ok(d.attempts > whileOff.attempts, JSON.stringify(d));
      assert.ok(d.next_attempt_at === null || d.next_attempt_at > whileOff.next_attempt_at);
    }, 30_000);
    assert.equal(stack.receiver.delivered(whileOff.eventId).length, 0);

    await stack.receiver.restart();
    await eventually(() => assert.equal(stack.receiver.delivered(whileOff.eventId).length, 1), 30_000);
    // Nothing more comes once it has been taken.
    await sleep(2_000);
    const received = stack.receiver.deliveries.filter((d) => d.eventId === whileOff.eventId);
    const answers = received.map((d) => d.answered);
    assert.deepEqual(
      answers,
      [...answers.slice(0, -1).map(() => 503), 200],
      'only 503s before it went away, the attempts while off never reached it, one 200 after the restart',
    );
    const [taken] = stack.receiver.delivered(whileOff.eventId);
    assert.ok(taken?.verified, 'the receiver verified it');
    assert.ok(verifySignature(SECRET, taken.signature, taken.body));
    assert.equal(JSON.parse(taken.body).id, whileOff.eventId);
    assert.equal(JSON.parse(taken.body).data.transactionId, id);

    const done = await eventually(async () => {
      const d = await delivery(id);
      assert.equal(d.state, 'delivered');
      return d;
    });
    assert.equal(done.last_status, 200);
    assert.equal(done.next_attempt_at, null);
    assert.ok(done.attempts > whileOff.attempts, JSON.stringify(done));
  });

  it('a receiver restarted while it holds the request (the connection dropped mid-attempt): delivered once after', async function () {
    stack.receiver.setFaults({ hang: 1 });
    const id = `cb-restart-${randomUUID()}`;
    const res = await stack.call('POST', '/api/transactions', {
      id,
      amount: '9.00',
      currency: 'EUR',
      callback_url: stack.receiver.url('/held'),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const held = await eventually(() => {
      const found = stack.receiver.deliveries.find(
        (d) => d.answered === 'hang' && JSON.parse(d.body).data.transactionId === id,
      );
      assert.ok(found, 'the first attempt reached the receiver and is held');
      return found;
    }, 30_000);
    await stack.receiver.restart();
    await eventually(() => assert.equal(stack.receiver.delivered(held.eventId).length, 1), 30_000);
    await sleep(2_000);
    assert.deepEqual(
      stack.receiver.deliveries.filter((d) => d.eventId === held.eventId).map((d) => d.answered),
      ['hang', 200],
    );
    const [taken] = stack.receiver.delivered(held.eventId);
    assert.ok(taken?.verified && verifySignature(SECRET, taken.signature, taken.body));
    assert.equal(taken.body, held.body, 'the same event, byte for byte');
    const done = await eventually(async () => {
      const d = await delivery(id);
      assert.equal(d.state, 'delivered');
      return d;
    });
    assert.deepEqual([done.attempts, done.last_status], [2, 200]);
  });
});
