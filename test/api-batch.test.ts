import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { appParts } from '../src/api/http/app';
import { testApp } from './support/api';
import { testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

const BATCH = '/api/transactions/batch';

const body = (overrides: Record<string, unknown> = {}) => ({
  id: `batch-${randomUUID()}`,
  amount: '150.50',
  currency: 'INR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  ...overrides,
});

interface Result {
  index: number;
  id: string | null;
  status: string;
  location?: string;
  errors?: { field: string; message: string }[];
}

function assertProblem(res: request.Response, status: number, field: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  assert.equal(res.body.status, status);
  const fields = ((res.body.errors ?? []) as { field: string }[]).map((e) => e.field);
  assert.ok(fields.includes(field), `expected ${field} among ${JSON.stringify(res.body)}`);
}

const fieldsOf = (r: Result | undefined) => (r?.errors ?? []).map((e) => e.field);

/** The value of one series of the app's metrics. */
async function metric(app: Express, name: string, labels: Record<string, string>): Promise<number> {
  const found = await appParts(app).metrics.registry.getSingleMetric(name)?.get();
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

describe('POST /api/transactions/batch (real Temporal, no worker)', function () {
  this.timeout(180_000);
  let client: Client;
  let app: Express;

  before(async function () {
    client = await testClient();
    // No worker polls the queue: every started transaction stays pending, which is all these tests read.
    app = testApp(client, uniqueTaskQueue('batch'));
  });

  /** The run under `id` (describe: strongly consistent, unlike a visibility count), or null when none. */
  async function runOf(id: string): Promise<string | null> {
    try {
      return (await client.workflow.getHandle(id).describe()).runId;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** The memo's amount of the transaction's workflow: what was started under the ID. */
  async function startedAmount(id: string) {
    const description = await client.workflow.getHandle(id).describe();
    const memo = description.memo as { transaction: { amount: string } };
    return memo.transaction.amount;
  }

  it('answers a mixed batch item by item, in order, and starts only the valid new ones', async function () {
    const stored = body();
    const taken = body();
    for (const b of [stored, taken])
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
    const fresh = body({ amount: 99.5 });
    const later = body({ currency: 'EUR', amount: '1.25' });
    const items = [
      fresh,
      body({ currency: 'XXQ' }),
      stored,
      { ...taken, amount: '7.00' },
      later,
      body({ metadata: { order: 'BIG' } }),
      { amount: '1.00', currency: 'EUR' },
      42,
      later,
      { ...later, amount: '2.50' },
      body({ amount: '10.5', currency: 'JPY' }),
    ];
    const outcomes = ['accepted', 'duplicate', 'conflict', 'rejected'];
    const counted = () =>
      Promise.all(
        outcomes.map((outcome) => metric(app, 'txflow_api_submissions_total', { dialect: 'batch', outcome })),
      );
    const before = await counted();
    // A number JSON.parse rounds (9007199254740993 → …992) can only be sent as raw text.
    const text = JSON.stringify({ transactions: items }).replace('"BIG"', '9007199254740993');
    const res = await request(app).post(BATCH).set('content-type', 'application/json').send(text);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const results = res.body.results as Result[];
    assert.deepEqual(
      results.map((r) => [r.index, r.status]),
      [
        [0, 'accepted'],
        [1, 'invalid'],
        [2, 'duplicate'],
        [3, 'conflict'],
        [4, 'accepted'],
        [5, 'invalid'],
        [6, 'invalid'],
        [7, 'invalid'],
        [8, 'duplicate'],
        [9, 'conflict'],
        [10, 'invalid'],
      ],
    );
    assert.deepEqual(res.body.summary, {
      accepted: 2,
      duplicate: 2,
      conflict: 2,
      invalid: 5,
      unknown: 0,
      skipped: 0,
    });
    const after = await counted();
    assert.deepEqual(
      after.map((n, i) => n - (before[i] ?? 0)),
      [2, 2, 2, 5],
      'batch items counted by outcome',
    );
    assert.equal(results[0]?.id, fresh.id);
    assert.equal(results[0]?.location, `/api/transactions/${fresh.id}`);
    assert.equal(results[3]?.location, undefined, 'no Location for a conflict: that ID holds another body');
    assert.deepEqual(fieldsOf(results[1]), ['body.transactions[1].currency']);
    assert.deepEqual(fieldsOf(results[5]), ['body.transactions[5].metadata.order']);
    assert.deepEqual(fieldsOf(results[6]), ['body.transactions[6].id']);
    assert.equal(results[6]?.id, null);
    assert.deepEqual(fieldsOf(results[7]), ['body.transactions[7]']);
    assert.deepEqual(fieldsOf(results[10]), ['body.transactions[10].amount']);
    assert.equal(results[1]?.id, (items[1] as { id: string }).id, 'an invalid item keeps its valid ID');

    // What Temporal holds: one run per accepted ID, none for a refused item, the stored bodies unchanged.
    for (const b of [fresh, later, stored, taken]) assert.ok(await runOf(b.id), b.id);
    for (const i of [1, 5, 10]) assert.equal(await runOf((items[i] as { id: string }).id), null);
    assert.equal(await startedAmount(fresh.id), '99.50');
    assert.equal(await startedAmount(later.id), '1.25', 'the first of the two bodies under one ID');
    assert.equal(await startedAmount(taken.id), '150.50');
  });

  it('a resent batch is answered from the per-ID deduplication: all duplicates, nothing new started', async function () {
    const items = [body(), body({ amount: '3.10' }), body({ currency: 'USD' })];
    const first = await request(app).post(BATCH).send({ transactions: items });
    assert.deepEqual(first.body.summary.accepted, 3, JSON.stringify(first.body));
    const runs = await Promise.all(items.map((b) => runOf(b.id)));
    const startsBefore = await metric(app, 'txflow_api_workflow_starts_total', { eager: 'false' });
    const again = await request(app).post(BATCH).send({ transactions: items });
    assert.equal(again.status, 200);
    assert.deepEqual(
      (again.body.results as Result[]).map((r) => [r.id, r.status]),
      items.map((b) => [b.id, 'duplicate']),
    );
    assert.equal(await metric(app, 'txflow_api_workflow_starts_total', { eager: 'false' }), startsBefore);
    assert.deepEqual(await Promise.all(items.map((b) => runOf(b.id))), runs, 'the same runs');
  });

  it('refuses a bad envelope as a whole with 400/413/415 naming the field; nothing starts', async function () {
    const item = body();
    const rejected = await metric(app, 'txflow_api_batches_total', { result: 'rejected' });
    const post = () => request(app).post(BATCH);
    assertProblem(await post().send({}), 400, 'body.transactions');
    assertProblem(await post().send({ transactions: [] }), 400, 'body.transactions');
    assertProblem(await post().send({ transactions: item }), 400, 'body.transactions');
    assertProblem(await post().send([item]), 400, 'body.transactions');
    assertProblem(await post().send({ transactions: [item], extra: 1 }), 400, 'body');
    assertProblem(
      await post()
        .set('Idempotency-Key', item.id)
        .send({ transactions: [item] }),
      400,
      'header.Idempotency-Key',
    );
    const text = await post()
      .set('content-type', 'text/plain')
      .send(JSON.stringify({ transactions: [item] }));
    assert.equal(text.status, 415);
    const malformed = await post().set('content-type', 'application/json').send('{"transactions": [');
    assert.equal(malformed.status, 400);
    assert.equal(await runOf(item.id), null);
    assert.equal(await metric(app, 'txflow_api_batches_total', { result: 'rejected' }), rejected + 8);
  });

  it('413 naming body.transactions over API_BATCH_MAX_ITEMS and over the body limit, read or streamed', async function () {
    // Limits: 3 items; 3 x min(16 KiB, 2 KiB metadata + 8 KiB) = 30 KiB of body.
    const small = testApp(client, uniqueTaskQueue('batch-limits'), undefined, { batchMaxItems: 3 });
    const four = [body(), body(), body(), body()];
    const over = await request(small).post(BATCH).send({ transactions: four });
    assertProblem(over, 413, 'body.transactions');
    assert.match(over.body.errors[0].message, /at most 3 transactions/);
    const bulky = [body({ description: 'x'.repeat(40 * 1024) })];
    const big = await request(small).post(BATCH).send({ transactions: bulky });
    assertProblem(big, 413, 'body.transactions');
    assert.match(big.body.errors[0].message, /at most 30720 bytes/);
    // Chunked, no Content-Length: counted while read.
    const chunks = [`{"transactions":[{"id":"${bulky[0]?.id}","description":"`];
    for (let i = 0; i < 8; i++) chunks.push('y'.repeat(8 * 1024));
    const chunked = await postChunked(small, [...chunks, '"}]}']);
    assert.equal(chunked.status, 413);
    assert.equal(chunked.body.errors[0]?.field, 'body.transactions');
    const exactly = await request(small)
      .post(BATCH)
      .send({ transactions: four.slice(0, 3) });
    assert.equal(exactly.body.summary?.accepted, 3, JSON.stringify(exactly.body));
    for (const b of [...bulky, four[3] ?? body()]) assert.equal(await runOf(b.id), null);
  });

  it('needs an API key when API_KEYS is set: 401 before the body is read, nothing started', async function () {
    const keyed = testApp(client, uniqueTaskQueue('batch-keys'), undefined, {
      apiKeys: ['batch-test-key-0123456789'],
    });
    const item = body();
    const refused = await request(keyed)
      .post(BATCH)
      .send({ transactions: [item] });
    assert.equal(refused.status, 401);
    assert.equal(await runOf(item.id), null);
    const allowed = await request(keyed)
      .post(BATCH)
      .set('X-API-Key', 'batch-test-key-0123456789')
      .send({ transactions: [item] });
    assert.equal(allowed.body.summary?.accepted, 1, JSON.stringify(allowed.body));
  });

  it('takes the largest batch, far over the single body limit, and counts it in /metrics', async function () {
    // Its own app with a generous RPC timeout: on a loaded machine one of 1,000 starts may take over 2 s, and
    // that item would rightly be `unknown`; this test is about the size.
    const app = testApp(client, uniqueTaskQueue('batch-large'), undefined, {}, {}, { rpcTimeoutMs: 15_000 });
    const items = Array.from({ length: 1_000 }, () => body({ description: 'a batch of a thousand' }));
    const answered = await metric(app, 'txflow_api_batches_total', { result: 'answered' });
    const accepted = await metric(app, 'txflow_api_submissions_total', {
      dialect: 'batch',
      outcome: 'accepted',
    });
    const res = await request(app).post(BATCH).send({ transactions: items });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    assert.equal(res.body.summary.accepted, 1_000, JSON.stringify(res.body.summary));
    const results = res.body.results as Result[];
    assert.deepEqual(
      results.map((r) => r.id),
      items.map((b) => b.id),
    );
    for (const i of [0, 499, 999]) assert.ok(await runOf(items[i]?.id ?? ''));
    assert.equal(await metric(app, 'txflow_api_batches_total', { result: 'answered' }), answered + 1);
    assert.equal(
      await metric(app, 'txflow_api_submissions_total', { dialect: 'batch', outcome: 'accepted' }),
      accepted + 1_000,
    );
    const text = (await request(app).get('/metrics')).text;
    assert.match(text, /^txflow_api_batch_items_bucket\{le="1000"\} [1-9]/m);
    assert.match(text, /^txflow_api_submissions_total\{dialect="batch",outcome="skipped"\} 0$/m);
  });
});

/** POSTs `chunks` with Transfer-Encoding: chunked (no Content-Length) to the app on an ephemeral port. */
async function postChunked(
  app: Express,
  chunks: string[],
): Promise<{ status: number; body: { errors: { field: string }[] } }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: BATCH,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });
  } finally {
    server.close();
  }
}
