import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type ClientOptions } from '@temporalio/client';
import request from 'supertest';
import type { Express } from 'express';
import { startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import { testApp } from './support/api';
import { eventually } from './support/eventually';

const body = (overrides: Record<string, unknown> = {}) => ({
  id: `api-${randomUUID()}`,
  amount: '150.50',
  currency: 'INR',
  description: 'invoice 42',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  ...overrides,
});

function assertProblem(res: request.Response, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.ok(res.body.title);
  assert.ok(res.body.request_id);
  assert.equal(JSON.stringify(res.body).includes('    at '), false, 'no stack trace');
}

interface Calls {
  start: number;
  describe: number;
  query: number;
}

/** A client on `client`'s connection that counts its workflow start, describe and query calls in `calls`. */
function countingClient(client: Client, calls: Calls, workflow: ClientOptions['workflow'] = {}): Client {
  const counting =
    (call: keyof Calls) =>
    <I, O>(input: I, next: (input: I) => Promise<O>): Promise<O> => {
      calls[call]++;
      return next(input);
    };
  return new Client({
    connection: client.connection,
    namespace: 'default',
    workflow,
    interceptors: {
      workflow: [
        {
          start: counting('start'),
          startWithDetails: counting('start'),
          describe: counting('describe'),
          query: counting('query'),
        },
      ],
    },
  });
}

describe('API (supertest against createApp with a real Temporal client)', function () {
  let client: Client;
  let app: Express;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    taskQueue = uniqueTaskQueue('api'); // no worker polls it: every transaction stays pending
    app = testApp(client, taskQueue);
  });

  async function workflowCount(id: string) {
    const { count } = await client.workflow.count(`WorkflowId = "${id}"`);
    return count;
  }

  describe('POST /api/transactions', function () {
    it('202 for a new ID, with Location, a pending status and the amount in canonical form', async function () {
      const b = body({ amount: 150.5 });
      const res = await request(app).post('/api/transactions').send(b);
      assert.equal(res.status, 202);
      assert.equal(res.headers.location, `/api/transactions/${b.id}`);
      assert.equal(res.body.transactionId, b.id);
      assert.equal(res.body.status, 'pending');
      assert.equal(res.body.amount, '150.50');
      assert.ok(Date.parse(res.body.submittedAt));
      const description = await client.workflow.getHandle(b.id).describe();
      assert.equal(description.type, 'processTransaction');
      assert.equal(description.taskQueue, taskQueue);
    });

    it('200 with the current status for the same ID and the same body (amount spelled differently)', async function () {
      const b = body();
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
      const again = await request(app)
        .post('/api/transactions')
        .send({ ...b, amount: 150.5 });
      assert.equal(again.status, 200);
      assert.equal(again.body.transactionId, b.id);
      assert.equal(again.body.status, 'pending');
    });

    it('409 problem+json for the same ID with a different body; the first body stays', async function () {
      const b = body();
      await request(app).post('/api/transactions').send(b);
      const res = await request(app)
        .post('/api/transactions')
        .send({ ...b, amount: '150.51' });
      assertProblem(res, 409);
      const read = await request(app).get(`/api/transactions/${b.id}`);
      assert.equal(read.body.amount, '150.50');
    });

    it('takes the ID from the Idempotency-Key header, and a generated one when there is none', async function () {
      const key = `key-${randomUUID()}`;
      const { id: _id, ...noId } = body();
      const keyed = await request(app).post('/api/transactions').set('Idempotency-Key', key).send(noId);
      assert.equal(keyed.status, 202);
      assert.equal(keyed.body.transactionId, key);
      const generated = await request(app).post('/api/transactions').send(noId);
      assert.equal(generated.status, 202);
      assert.match(generated.body.transactionId, /^[0-9a-f-]{36}$/);
    });

    it('400 naming every failing field, and nothing is started', async function () {
      const b = body({ amount: '1.234', currency: 'XYZ', extra: true, destination_account: 'a b' });
      const res = await request(app).post('/api/transactions').send(b);
      assertProblem(res, 400);
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
      assert.deepEqual(fields, ['body', 'body.currency', 'body.destination_account']);
      assert.equal(await workflowCount(b.id as string), 0);
    });

    it('400 for too many decimals for the currency, a zero amount and a float in exponent form', async function () {
      for (const [amount, currency, pattern] of [
        ['10.5', 'JPY', /at most 0 decimal/],
        ['1.0001', 'BHD', /at most 3 decimal/],
        ['0.00', 'EUR', /greater than zero/],
        [1e-7, 'EUR', /decimal string/],
        ['-5', 'EUR', /plain decimal/],
      ] as const) {
        const b = body({ amount, currency });
        const res = await request(app).post('/api/transactions').send(b);
        assertProblem(res, 400);
        assert.equal(res.body.errors[0].field, 'body.amount');
        assert.match(res.body.errors[0].message, pattern);
        assert.equal(await workflowCount(b.id as string), 0);
      }
    });

    it('400 for malformed JSON, 415 for another content type, 413 for an oversize body', async function () {
      assertProblem(
        await request(app)
          .post('/api/transactions')
          .set('content-type', 'application/json')
          .send('{"id": "x",'),
        400,
      );
      assertProblem(
        await request(app).post('/api/transactions').set('content-type', 'text/plain').send('hello'),
        415,
      );
      const big = body({ description: 'x'.repeat(400), metadata: { blob: 'y'.repeat(20_000) } });
      assertProblem(await request(app).post('/api/transactions').send(big), 413);
      assert.equal(await workflowCount(big.id as string), 0);
    });

    it('400 for dangerous or deep metadata', async function () {
      const proto = await request(app)
        .post('/api/transactions')
        .set('content-type', 'application/json')
        .send(`{"amount":"1","currency":"EUR","metadata":{"__proto__":{"admin":true}}}`);
      assertProblem(proto, 400);
      assert.equal(proto.body.errors[0].field, 'body.metadata');
      const deep = await request(app)
        .post('/api/transactions')
        .send(body({ metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } }));
      assertProblem(deep, 400);
    });
  });

  describe('metadata and the fields txflow posts', function () {
    it('400 naming each top-level key that is a posted field, and nothing is started', async function () {
      const b = body({ metadata: { order: 'A-17', destination_account: 'acc_evil', amount: '9999.00' } });
      const res = await request(app).post('/api/transactions').send(b);
      assertProblem(res, 400);
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
      assert.deepEqual(fields, ['body.metadata.amount', 'body.metadata.destination_account']);
      assert.equal(await workflowCount(b.id as string), 0);
    });

    it('takes the same names deeper down, and in camelCase (the body takes snake_case only)', async function () {
      const metadata = { order: { amount: 1, destination_account: 'acc_c' }, sourceAccount: 'note' };
      const b = body({ metadata });
      const res = await request(app).post('/api/transactions').send(b);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.deepEqual(res.body.metadata, metadata);
    });
  });

  describe('numbers a double cannot hold', function () {
    const raw = (app_: Express, text: string) =>
      request(app_).post('/api/transactions').set('content-type', 'application/json').send(text);

    it('POSTING_AMOUNT_FORMAT=number (the default): 400 for an amount a JSON number reader would alter; string: taken', async function () {
      const b = body({ amount: '99999999999999.99', currency: 'EUR' });
      const refused = await request(app).post('/api/transactions').send(b);
      assertProblem(refused, 400);
      assert.deepEqual(refused.body.errors, [
        {
          field: 'body.amount',
          message:
            'goes downstream as a JSON number, which a JSON parser reads as 99999999999999.98: lower the ' +
            'amount, or switch POSTING_AMOUNT_FORMAT to string',
        },
      ]);
      assert.equal(await workflowCount(b.id as string), 0);
      const asString = testApp(client, taskQueue, undefined, { postingAmountFormat: 'string' });
      const taken = await request(asString).post('/api/transactions').send(b);
      assert.equal(taken.status, 202, JSON.stringify(taken.body));
      assert.equal(taken.body.amount, '99999999999999.99');
    });

    it('400 for a JSON number the parser rounded, in the amount or in metadata; exact ones are kept', async function () {
      const id = `api-${randomUUID()}`;
      const rounded = await raw(
        app,
        `{"id":"${id}","amount":1.0000000000000001,"currency":"EUR","metadata":{"n":9007199254740993}}`,
      );
      assertProblem(rounded, 400);
      assert.deepEqual(
        (rounded.body.errors as { field: string }[]).map((e) => e.field),
        ['body.amount', 'body.metadata.n'],
      );
      assert.equal(await workflowCount(id), 0);
      const exact = await raw(
        app,
        `{"id":"${id}","amount":1.10,"currency":"EUR","metadata":{"n":9007199254740992,"e":1e21,"x":0.1}}`,
      );
      assert.equal(exact.status, 202, JSON.stringify(exact.body));
      assert.equal(exact.body.amount, '1.10');
      assert.deepEqual(exact.body.metadata, { n: 9007199254740992, e: 1e21, x: 0.1 });
    });
  });

  describe('GET /api/transactions/:id', function () {
    it('404 for an unknown ID, 400 for a malformed one', async function () {
      assertProblem(await request(app).get(`/api/transactions/nope-${randomUUID()}`), 404);
      assertProblem(await request(app).get(`/api/transactions/${'x'.repeat(129)}`), 400);
    });

    it('answers "pending" from describe() when no worker answers the query', async function () {
      const b = body();
      await request(app).post('/api/transactions').send(b);
      const res = await request(app).get(`/api/transactions/${b.id}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'pending');
      assert.equal(res.body.sourceAccount, 'acc_a');
      assert.equal(res.body.description, 'invoice 42');
    });
  });

  describe('webhook dialect', function () {
    const webhook = () => ({
      transaction_id: `wh-${randomUUID()}`,
      source_account: 'acc_src',
      destination_account: 'acc_dst',
      amount: 99.9,
      currency: 'USD',
    });

    it('202 for new and repeated deliveries, 409 for a different body, v1 status shape', async function () {
      const w = webhook();
      const first = await request(app).post('/v1/webhooks/transactions').send(w);
      assert.equal(first.status, 202);
      assert.equal(first.body.status, 'PROCESSING');
      assert.equal(first.body.amount, '99.90');
      const again = await request(app).post('/v1/webhooks/transactions').send(w);
      assert.equal(again.status, 202);
      assertProblem(
        await request(app)
          .post('/v1/webhooks/transactions')
          .send({ ...w, amount: 1 }),
        409,
      );
      const read = await request(app).get(`/v1/transactions/${w.transaction_id}`);
      assert.deepEqual(Object.keys(read.body).sort(), [
        'amount',
        'created_at',
        'currency',
        'destination_account',
        'paused_reason',
        'phase',
        'processed_at',
        'source_account',
        'status',
        'transaction_id',
      ]);
      assert.equal(read.body.processed_at, null);
    });

    it('400 when a required field is missing', async function () {
      const { source_account: _s, ...missing } = webhook();
      const res = await request(app).post('/v1/webhooks/transactions').send(missing);
      assertProblem(res, 400);
      assert.equal(res.body.errors[0].field, 'body.source_account');
    });
  });

  describe('health', function () {
    it('/api/health reports Temporal reachable and the open transactions; GET / in the v1 shape', async function () {
      await request(app).post('/api/transactions').send(body());
      const res = await request(app).get('/api/health');
      assert.equal(res.status, 200);
      // The original spec's four keys, with its types: {"status":"OK","queue_depth":3,"error_rate":0.01,"uptime":250}.
      assert.equal(res.body.status, 'OK');
      assert.ok(
        Number.isInteger(res.body.queue_depth) && res.body.queue_depth >= 1,
        `${res.body.queue_depth}`,
      );
      assert.equal(typeof res.body.error_rate, 'number');
      assert.ok(res.body.error_rate >= 0 && res.body.error_rate <= 1);
      assert.equal(typeof res.body.uptime, 'number');
      assert.equal(res.body.uptime_seconds, undefined);
      assert.equal(res.body.temporal.reachable, true);
      assert.equal(res.body.errors.window_seconds, 60);
      assert.equal(res.body.figures_measured_at, res.body.checked_at);
      const root = await request(app).get('/');
      assert.equal(root.body.status, 'healthy');
    });
  });

  describe('with a worker and the mock', function () {
    let mock: RunningMock;
    let worker: RunningWorker;
    let queue: string;
    let withWorker: Express;

    before(async function () {
      mock = await startMock();
      queue = uniqueTaskQueue('api-worker');
      worker = await startWorker({ taskQueue: queue, postingUrl: mock.url });
      withWorker = testApp(client, queue);
    });

    after(async function () {
      await worker?.stop();
      await mock?.stop();
    });

    it('reports completed with attempts and completedAt, in both dialects', async function () {
      const b = body();
      assert.equal((await request(withWorker).post('/api/transactions').send(b)).status, 202);
      const done = await eventually(async () => {
        const res = await request(withWorker).get(`/api/transactions/${b.id}`);
        assert.equal(res.body.status, 'completed');
        return res.body;
      });
      assert.equal(done.attempts, 2);
      assert.equal(done.outcome, 'posted');
      assert.ok(Date.parse(done.completedAt) >= Date.parse(done.submittedAt));
      const v1 = await request(withWorker).get(`/v1/transactions/${b.id}`);
      assert.equal(v1.body.status, 'PROCESSED');
      assert.equal(v1.body.processed_at, done.completedAt);
      assert.equal(mock.store.copies(b.id as string), 1);
      // What an operator sees in the Web UI: the run's summary and description.
      const handle = client.workflow.getHandle(b.id as string);
      const description = await handle.describe();
      assert.equal(await description.staticSummary(), '150.50 INR acc_a → acc_b');
      assert.match((await description.staticDetails()) ?? '', /invoice 42/);
    });

    describe('a resend to the API that accepted the transaction', function () {
      const calls = { start: 0, describe: 0, query: 0 };
      let counting: Client;

      before(function () {
        counting = countingClient(client, calls);
      });

      const since = (before: typeof calls) => ({
        start: calls.start - before.start,
        describe: calls.describe - before.describe,
        query: calls.query - before.query,
      });

      it('costs one describe and no start, and answers as an API that did not accept it', async function () {
        const accepting = testApp(counting, taskQueue); // no worker: the transaction stays pending
        const other = testApp(counting, taskQueue);
        const b = body();
        let before = { ...calls };
        assert.equal((await request(accepting).post('/api/transactions').send(b)).status, 202);
        assert.deepEqual(since(before), { start: 1, describe: 0, query: 0 });

        before = { ...calls };
        const again = await request(accepting).post('/api/transactions').send(b);
        assert.deepEqual(since(before), { start: 0, describe: 1, query: 0 });
        before = { ...calls };
        const elsewhere = await request(other).post('/api/transactions').send(b);
        assert.deepEqual(since(before), { start: 1, describe: 1, query: 0 }); // refused, then described
        assert.equal(again.status, 200);
        assert.equal(again.body.status, 'pending');
        assert.deepEqual(again.body, elsewhere.body);

        before = { ...calls };
        const changed = await request(accepting)
          .post('/api/transactions')
          .send({ ...b, amount: '1.00' });
        assertProblem(changed, 409);
        assert.equal(since(before).start, 0);
        assert.equal((await request(accepting).get(`/api/transactions/${b.id}`)).body.amount, '150.50');
      });

      it('of a completed transaction, once the API has seen it completed, costs no call at all', async function () {
        const app = testApp(counting, queue);
        const b = body();
        assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
        // Closed, not only completed in the worker's answer: the GET then reads (and keeps) the run's result.
        await eventually(async () => {
          assert.equal((await client.workflow.getHandle(b.id as string).describe()).status.name, 'COMPLETED');
        });
        assert.equal((await request(app).get(`/api/transactions/${b.id}`)).body.status, 'completed');
        const before = { ...calls };
        const again = await request(app).post('/api/transactions').send(b);
        assert.deepEqual(since(before), { start: 0, describe: 0, query: 0 });
        assert.equal(again.status, 200);
        assert.equal(again.body.status, 'completed');
        assert.equal(again.body.outcome, 'posted');
        assertProblem(
          await request(app)
            .post('/api/transactions')
            .send({ ...b, amount: '1.00' }),
          409,
        );
        assert.equal(mock.store.copies(b.id as string), 1);
      });
    });
  });

  describe('a read racing the end of the run', function () {
    let mock: RunningMock;
    let worker: RunningWorker;
    let queue: string;

    before(async function () {
      mock = await startMock({ postLatencyMs: { min: 1_500, max: 1_500 } });
      queue = uniqueTaskQueue('api-race');
      worker = await startWorker({ taskQueue: queue, postingUrl: mock.url });
    });

    after(async function () {
      await worker?.stop();
      await mock?.stop();
    });

    it('does not count twice the call describe() saw in flight when the query answers a final state', async function () {
      let hold = false;
      let held = false;
      // describe() answers while the POST is in flight; the query goes out only once the run has completed.
      const racing = new Client({
        connection: client.connection,
        namespace: 'default',
        interceptors: {
          workflow: [
            {
              async describe(input, next) {
                const answer = await next(input);
                if (hold && (answer.pendingActivities?.length ?? 0) > 0) {
                  held = true;
                  await eventually(async () => {
                    const now = await client.workflow
                      .getHandle(input.workflowExecution.workflowId ?? '')
                      .describe();
                    assert.equal(now.status.name, 'COMPLETED');
                  });
                }
                return answer;
              },
            },
          ],
        },
      });
      // The query of a closed run replays its history on the worker: allow it more than the usual 60 ms.
      const app = testApp(racing, queue, undefined, {}, {}, { queryDeadlineMs: 5_000 });
      const b = body();
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
      await eventually(async () => {
        const pending =
          (await client.workflow.getHandle(b.id as string).describe()).raw.pendingActivities ?? [];
        assert.equal(pending[0]?.activityType?.name, 'postTransaction');
      });
      hold = true;
      const read = await request(app).get(`/api/transactions/${b.id}`);
      assert.ok(held, 'the read described the run while its POST was in flight');
      assert.equal(read.body.status, 'completed');
      assert.equal(read.body.attempts, 2, 'one check and one POST');
      assert.equal(read.body.lastError, null);
    });
  });

  describe('a duplicate of a running transaction', function () {
    let mock: RunningMock;
    let worker: RunningWorker;
    let counted: Express;
    const calls = { start: 0, describe: 0, query: 0 };
    const ids: string[] = [];

    before(async function () {
      // Every POST fails before it writes: the transaction keeps retrying, running and `processing`.
      mock = await startMock({ preWriteFailureRate: 1 });
      const queue = uniqueTaskQueue('api-dup');
      worker = await startWorker({ taskQueue: queue, postingUrl: mock.url });
      counted = testApp(countingClient(client, calls, { queryRejectCondition: 'NOT_OPEN' }), queue);
    });

    after(async function () {
      for (const id of ids)
        await client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined);
      await worker?.stop();
      await mock?.stop();
    });

    it('is answered from the server record without asking the worker; a GET asks it', async function () {
      const b = body();
      ids.push(b.id as string);
      assert.equal((await request(counted).post('/api/transactions').send(b)).status, 202);
      // Wait until the POST is retrying: from then on an activity is always pending. Before it, the
      // duplicate may fall between the check and the POST, when nothing is in flight (attempts 0).
      await eventually(async () => {
        const res = await request(counted).get(`/api/transactions/${b.id}`);
        assert.equal(res.body.status, 'processing');
        assert.notEqual(res.body.lastError, null);
      });
      const before = calls.query;
      const again = await request(counted).post('/api/transactions').send(b);
      assert.equal(again.status, 200);
      assert.equal(again.body.status, 'processing'); // the TxStatus search attribute the workflow keeps
      assert.ok(again.body.attempts >= 1, JSON.stringify(again.body)); // the pending POST's attempt
      assert.equal(calls.query, before, 'the duplicate sent a status query to the worker');
      const read = await request(counted).get(`/api/transactions/${b.id}`);
      assert.equal(read.body.status, 'processing');
      assert.equal(calls.query, before + 1);
    });
  });

  describe('Temporal unreachable', function () {
    let down: Express;
    let downClient: Client;

    before(function () {
      // Nothing listens on port 1: every call fails to connect.
      downClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
      down = testApp(downClient, 'unreachable');
    });

    it('503 with Retry-After for a submit, never a 202', async function () {
      const res = await request(down).post('/api/transactions').send(body());
      assertProblem(res, 503);
      assert.ok(Number(res.headers['retry-after']) > 0);
      const hook = await request(down).post('/v1/webhooks/transactions').send({
        transaction_id: 'wh-x',
        source_account: 'a',
        destination_account: 'b',
        amount: '1',
        currency: 'EUR',
      });
      assertProblem(hook, 503);
    });

    it('503 for reads and for health', async function () {
      assertProblem(await request(down).get('/api/transactions/some-id'), 503);
      const health = await request(down).get('/api/health');
      assert.equal(health.status, 503);
      assert.equal(health.body.temporal.reachable, false);
      // The spec's keys keep their types: nothing measured yet, so zeros, and no time they were measured at.
      assert.equal(health.body.status, 'UNAVAILABLE');
      assert.equal(health.body.queue_depth, 0);
      assert.equal(health.body.error_rate, 0);
      assert.equal(typeof health.body.uptime, 'number');
      assert.equal(health.body.figures_measured_at, null);
    });
  });
});
