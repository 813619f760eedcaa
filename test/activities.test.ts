import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPostingActivities } from '../src/activities';
import { attemptTimeLeft } from '../src/activities/attempt-time';
import {
  createPostingClient,
  encodeBody,
  recordPath,
  type PostingClient,
} from '../src/posting/posting-client';
import { newTransaction } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, `got ${String(err)}`);
  return err;
}

describe('posting activities against the mock over HTTP', function () {
  let mock: RunningMock;
  let posting: PostingClient;
  let activities: ReturnType<typeof createPostingActivities>;

  before(async function () {
    mock = await startMock();
    posting = createPostingClient({ baseUrl: mock.url, timeoutMs: 300, amountFormat: 'number' });
    activities = createPostingActivities(posting);
  });

  after(async function () {
    await posting?.close();
    await mock?.stop();
  });

  beforeEach(function () {
    mock.store.clear();
    mock.faults.update({ preWriteFailureRate: 0, postWriteFailureRate: 0, getFailureRate: 0, outage: false });
  });

  const quiet = new DefaultLogger('ERROR');
  // The mock environment's default info was scheduled at the epoch with a 1 s deadline: long past.
  const attempt = (n: number) =>
    new MockActivityEnvironment(
      {
        attempt: n,
        scheduledTimestampMs: Date.now(),
        currentAttemptScheduledTimestampMs: Date.now(),
        scheduleToCloseTimeoutMs: 60_000,
        startToCloseTimeoutMs: 10_000,
      },
      { logger: quiet },
    );

  it('checkExists: 404 is "not found", 200 is "found", with the attempt number', async function () {
    const tx = newTransaction();
    assert.deepEqual(await attempt(1).run(activities.checkExists, tx.id), { found: false, attempt: 1 });
    mock.store.add({ id: tx.id, amount: '1.00', currency: 'EUR' });
    assert.deepEqual(await attempt(3).run(activities.checkExists, tx.id), { found: true, attempt: 3 });
  });

  it('checkExists: a 5xx is a retryable PostingUnavailable failure', async function () {
    mock.faults.update({ getFailureRate: 1 });
    const failure = await failureOf(attempt(2).run(activities.checkExists, 'any'));
    assert.equal(failure.type, 'PostingUnavailable');
    assert.equal(failure.nonRetryable, false);
    const details = failure.details?.[0] as { attempt: number; status: number };
    assert.equal(details.attempt, 2);
    assert.ok([500, 502, 503].includes(details.status), `status ${details.status}`);
    assert.match(failure.message, new RegExp(`answered ${details.status}`));
  });

  it('postTransaction: the first attempt posts the exact decimal amount and the accounts in metadata', async function () {
    const tx = newTransaction({ amount: '150.50', metadata: { invoice: 42 } });
    assert.deepEqual(await attempt(1).run(activities.postTransaction, tx), { outcome: 'posted', attempt: 1 });
    const stored = mock.store.first(tx.id);
    assert.equal(stored?.amount, '150.50');
    assert.deepEqual(stored?.metadata, {
      source_account: 'acc_a',
      destination_account: 'acc_b',
      invoice: 42,
    });
  });

  it('postTransaction: a retry finds the transaction by GET and does not post it again', async function () {
    const tx = newTransaction();
    mock.store.add({ id: tx.id, amount: tx.amount, currency: tx.currency });
    assert.deepEqual(await attempt(2).run(activities.postTransaction, tx), {
      outcome: 'already_present',
      attempt: 2,
    });
    assert.equal(mock.store.copies(tx.id), 1);
    assert.equal(mock.store.stats().requests.post, 0);
  });

  it('postTransaction: a retry posts when the GET finds nothing', async function () {
    const tx = newTransaction();
    assert.deepEqual(await attempt(2).run(activities.postTransaction, tx), { outcome: 'posted', attempt: 2 });
    assert.equal(mock.store.stats().requests.get, 1);
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('postTransaction: a 400 is a non-retryable PostingRejected failure', async function () {
    const failure = await failureOf(
      attempt(1).run(activities.postTransaction, newTransaction({ currency: 'eur' })),
    );
    assert.equal(failure.type, 'PostingRejected');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /answered 400/);
  });

  it('postTransaction: a POST held past the client timeout is PostingOutcomeUnknown, though it was written', async function () {
    mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 2_000 });
    const tx = newTransaction();
    const failure = await failureOf(attempt(1).run(activities.postTransaction, tx));
    assert.equal(failure.type, 'PostingOutcomeUnknown');
    assert.match(failure.message, /no answer within 300 ms: outcome unknown/);
    assert.equal(mock.store.copies(tx.id), 1, 'the write happened: only a GET may decide what comes next');
    mock.faults.update({ postWriteFailureRate: 0 });
    assert.deepEqual(await attempt(2).run(activities.postTransaction, tx), {
      outcome: 'already_present',
      attempt: 2,
    });
    assert.equal(mock.store.copies(tx.id), 1);
  });

  it('a refused connection is PostingNotProcessed: nothing reached the service', async function () {
    const nowhere = createPostingClient({
      baseUrl: 'http://127.0.0.1:1',
      timeoutMs: 300,
      amountFormat: 'number',
    });
    const failure = await failureOf(
      attempt(1).run(createPostingActivities(nowhere).postTransaction, newTransaction()),
    );
    assert.equal(failure.type, 'PostingNotProcessed');
    assert.match(failure.message, /ECONNREFUSED/);
    await nowhere.close();
  });

  it('postTransaction: a 500 is PostingOutcomeUnknown, a 503 (documented "not processed") PostingNotProcessed', async function () {
    const client = createPostingClient({
      baseUrl: mock.url,
      timeoutMs: 300,
      amountFormat: 'number',
      notProcessedStatuses: [503],
    });
    const post = createPostingActivities(client).postTransaction;
    const types: Record<number, string> = {};
    for (let i = 0; i < 40 && Object.keys(types).length < 3; i += 1) {
      mock.faults.update({ preWriteFailureRate: 1, seed: i });
      const failure = await failureOf(attempt(1).run(post, newTransaction()));
      types[(failure.details?.[0] as { status: number }).status] = String(failure.type);
    }
    assert.deepEqual(types, {
      500: 'PostingOutcomeUnknown',
      502: 'PostingOutcomeUnknown',
      503: 'PostingNotProcessed',
    });
    await client.close();
  });

  it('encodeBody: the accounts are the submitted ones, whatever the metadata says', function () {
    const tx = newTransaction({ metadata: { destination_account: 'acc_evil', note: 'x' } });
    const body = JSON.parse(encodeBody(tx, { amountFormat: 'string' })) as {
      metadata: Record<string, unknown>;
    };
    assert.deepEqual(body.metadata, { destination_account: 'acc_b', note: 'x', source_account: 'acc_a' });
  });

  it('encodeBody refuses an amount a JSON double cannot carry exactly, unless it travels as a string', function () {
    const tx = newTransaction({ amount: '99999999999999.99' });
    assert.throws(() => encodeBody(tx, { amountFormat: 'number' }), /POSTING_AMOUNT_FORMAT=string/);
    assert.match(encodeBody(tx, { amountFormat: 'string' }), /"amount":"99999999999999.99"/);
    assert.match(
      encodeBody(newTransaction({ amount: '0.10' }), { amountFormat: 'number' }),
      /"amount":0\.10,/,
    );
    assert.throws(() =>
      encodeBody(newTransaction({ amount: '9007199254740993' }), { amountFormat: 'number' }),
    );
    assert.match(
      encodeBody(newTransaction({ amount: '150.50' }), { amountFormat: 'number' }),
      /"amount":150\.50,/,
    );
  });

  it('every POST carries the transaction ID in the configured idempotency header, or none when switched off', async function () {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(
        req.headers['idempotency-key'] as string | undefined,
        req.headers['x-request-key'] as string | undefined,
      );
      req.resume();
      res.writeHead(201).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tx = newTransaction();
    for (const idempotencyHeader of ['Idempotency-Key', 'X-Request-Key', null]) {
      const client = createPostingClient({
        baseUrl,
        timeoutMs: 1_000,
        amountFormat: 'number',
        idempotencyHeader,
      });
      await client.post(tx);
      await client.close();
    }
    server.close();
    assert.deepEqual(seen, [tx.id, undefined, undefined, tx.id, undefined, undefined]);
  });

  it('checkExists: a record held with another amount or account is a PostingConflict, never "found"', async function () {
    const tx = newTransaction();
    mock.store.add({
      id: tx.id,
      amount: '150.5',
      currency: tx.currency,
      metadata: { source_account: 'acc_a', destination_account: 'acc_b' },
    });
    assert.deepEqual(await attempt(1).run(activities.checkExists, tx.id, tx), { found: true, attempt: 1 });
    const other = newTransaction({ amount: '15.05' });
    mock.store.add({
      id: other.id,
      amount: '150.50',
      currency: other.currency,
      metadata: { source_account: 'acc_x', destination_account: 'acc_b' },
    });
    const failure = await failureOf(attempt(1).run(activities.checkExists, other.id, other));
    assert.equal(failure.type, 'PostingConflict');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /another amount, source_account/);
  });

  it('postTransaction: a POST abandoned by a cancellation (a worker shutting down) is PostingOutcomeUnknown, final', async function () {
    mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 5_000 });
    const client = createPostingClient({ baseUrl: mock.url, timeoutMs: 3_000, amountFormat: 'number' });
    const env = attempt(1);
    const running = env.run(createPostingActivities(client).postTransaction, newTransaction());
    await new Promise((resolve) => setTimeout(resolve, 200));
    env.cancel();
    const failure = await failureOf(running);
    assert.equal(failure.type, 'PostingOutcomeUnknown');
    assert.equal(failure.nonRetryable, true, 'never retried at once: the settle window comes first');
    assert.match(failure.message, /abandoned/);
    await client.close();
  });

  it('a dot-segment ID never reaches a URL path', function () {
    for (const id of ['.', '..']) assert.throws(() => recordPath(id), /cannot be put in a URL path/);
    assert.equal(recordPath('a.b'), '/transactions/a.b');
  });

  it('encodeBody writes the amount as a JSON number with its exact digits, or as a string', function () {
    const tx = newTransaction({ amount: '0.10', metadata: { amount: '0.10' } });
    const asNumber = encodeBody(tx, { amountFormat: 'number' });
    assert.match(asNumber, /^\{"amount":0\.10,/);
    assert.match(asNumber, /"metadata":\{.*"amount":"0\.10"/, 'metadata is left alone');
    assert.match(encodeBody(tx, { amountFormat: 'string' }), /^\{"amount":"0\.10",/);
  });

  it('attemptTimeLeft: the attempt or the deadline, whichever ends first, less a margin', function () {
    const info = {
      startToCloseTimeoutMs: 10_000,
      scheduledTimestampMs: 0,
      scheduleToCloseTimeoutMs: 0,
      currentAttemptScheduledTimestampMs: 0,
    };
    assert.equal(attemptTimeLeft(1_000, info, 1_000), 8_000, '20% margin of a 10 s attempt');
    assert.equal(
      attemptTimeLeft(1_000, { ...info, startToCloseTimeoutMs: 1_000 }, 1_000),
      500,
      'at least 500 ms',
    );
    assert.equal(
      attemptTimeLeft(1_000, { ...info, scheduleToCloseTimeoutMs: 5_000 }, 1_000),
      2_000,
      'deadline first',
    );
    assert.ok(attemptTimeLeft(1_000, info, 9_500) < 0, 'nothing left: do not post');
    const queued = { ...info, currentAttemptScheduledTimestampMs: 1 };
    assert.ok(
      attemptTimeLeft(60_000, queued, 60_000) < 0,
      'an attempt scheduled a minute ago: by its scheduled time, nothing left (the server is asked, below)',
    );
    assert.equal(
      attemptTimeLeft(60_000, queued, 60_000, 59_500),
      7_500,
      "the server's clock starts when it hands the attempt out: an attempt that waited in the queue still posts",
    );
    assert.ok(
      attemptTimeLeft(64_000, queued, 64_000, 50_000) < 0,
      'a worker that started the function late, past the server clock: no POST',
    );
  });
});
