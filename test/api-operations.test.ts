import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';

const body = (overrides: Record<string, unknown> = {}) => ({
  id: `ops-${randomUUID()}`,
  amount: '150.50',
  currency: 'INR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  ...overrides,
});

function assertProblem(res: request.Response, status: number, field?: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  assert.equal(res.body.status, status);
  if (field !== undefined) {
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    assert.ok(fields.includes(field), `expected ${field} among ${JSON.stringify(res.body.errors)}`);
  }
}

async function submit(app: Express, b: Record<string, unknown>) {
  const res = await request(app).post('/api/transactions').send(b);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return b.id as string;
}

async function statusOf(app: Express, id: string, status: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const res = await request(app).get(`/api/transactions/${id}`);
    assert.equal(res.body.status, status, JSON.stringify(res.body));
    return res.body;
  }, timeoutMs);
}

interface Item {
  transactionId: string;
  status: string;
  currency: string;
}

/** Every page of a listing, following next_cursor; fails on a page that is not 200. */
async function listAll(app: Express, query: Record<string, string>) {
  const pages: Item[][] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(app)
      .get('/api/transactions')
      .query(cursor ? { ...query, cursor } : query);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    pages.push(res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor !== null);
  return pages;
}

const ids = (pages: Item[][]) => pages.flat().map((i) => i.transactionId);

describe('API operations: list, retry, cancel (real API, Temporal, worker and mock)', function () {
  this.timeout(90_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;
  /** The API as deployed: the default (test) policy. */
  let app: Express;
  /** The same API with a one-second deadline, to make transactions fail quickly. */
  let shortApp: Express;

  before(async function () {
    client = await testClient();
    mock = await startMock();
    taskQueue = uniqueTaskQueue('ops');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 500 });
    app = testApp(client, taskQueue);
    shortApp = testApp(client, taskQueue, fastPolicy({ deadlineMs: 1_000 }));
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  beforeEach(function () {
    mock.faults.update({
      preWriteFailureRate: 0,
      postWriteFailureRate: 0,
      getFailureRate: 0,
      outage: false,
    });
  });

  /** A transaction that failed: submitted with a one-second deadline during a downstream outage. */
  async function failedTransaction() {
    mock.faults.update({ outage: true });
    const id = await submit(shortApp, body());
    await statusOf(app, id, 'failed');
    mock.faults.update({ outage: false });
    return id;
  }

  describe('GET /api/transactions', function () {
    // No worker polls this queue: its transactions stay pending, so pages cannot shift under the test.
    let listApp: Express;
    const inr: string[] = [];
    const eur: string[] = [];
    let between: string;

    before(async function () {
      listApp = testApp(client, uniqueTaskQueue('ops-list'));
      for (let i = 0; i < 4; i++) inr.push(await submit(listApp, body({ amount: `${i + 1}.00` })));
      await sleep(50);
      between = new Date().toISOString();
      await sleep(50);
      for (let i = 0; i < 3; i++) eur.push(await submit(listApp, body({ currency: 'EUR' })));
    });

    it('pages through every transaction with a cursor: none twice, none missing', async function () {
      const pages = await eventually(async () => {
        const all = await listAll(listApp, { limit: '3' });
        assert.equal(ids(all).length, 7, JSON.stringify(all));
        return all;
      });
      assert.deepEqual(
        pages.map((p) => p.length),
        [3, 3, 1],
      );
      assert.deepEqual(new Set(ids(pages)), new Set([...inr, ...eur]));
      const first = pages[0]?.[0] as unknown as Record<string, unknown>;
      assert.equal(first.status, 'pending');
      assert.equal(first.sourceAccount, 'acc_a');
      assert.ok(Date.parse(first.submittedAt as string));
      assert.equal(first.completedAt, null);
      assert.equal('outcome' in first, false, 'a listing has no run results');
      // What the run recorded for operators: what its start set (checking, 0 attempts), no error yet.
      assert.deepEqual([first.attempts, first.lastError, first.phase], [0, null, 'checking']);
    });

    it('the default page holds them all, with next_cursor null', async function () {
      const res = await eventually(async () => {
        const r = await request(listApp).get('/api/transactions');
        assert.equal(r.body.items.length, 7);
        return r;
      });
      assert.equal(res.body.next_cursor, null);
    });

    it('filters by currency, status and start time', async function () {
      const only = async (query: Record<string, string>, expected: string[]) =>
        eventually(async () => {
          assert.deepEqual(new Set(ids(await listAll(listApp, { ...query, limit: '2' }))), new Set(expected));
        });
      await only({ currency: 'EUR' }, eur);
      await only({ currency: 'INR', status: 'pending' }, inr);
      await only({ status: 'completed' }, []);
      await only({ from: between }, eur);
      await only({ to: between }, inr);
      await only({ from: '2020-01-01', to: between, currency: 'EUR' }, []);
    });

    it('filters by the statuses a worker produces: completed, failed, cancelled', async function () {
      const completed = await submit(app, body({ currency: 'JPY', amount: '100' }));
      await statusOf(app, completed, 'completed');
      const failed = await failedTransaction();
      mock.faults.update({ outage: true });
      const cancelled = await submit(app, body());
      await statusOf(app, cancelled, 'processing');
      assert.equal((await request(app).post(`/api/transactions/${cancelled}/cancel`)).status, 200);
      mock.faults.update({ outage: false });
      for (const [status, id] of [
        ['completed', completed],
        ['failed', failed],
        ['cancelled', cancelled],
      ] as const) {
        await eventually(async () => {
          const items = (await listAll(app, { status, limit: '1000' })).flat();
          assert.ok(
            items.some((i) => i.transactionId === id),
            `${status}: ${id} listed`,
          );
          assert.ok(
            items.every((i) => i.status === status),
            `${status}: ${JSON.stringify(items)}`,
          );
        });
      }
      const jpy = await eventually(async () => {
        const items = (await listAll(app, { currency: 'JPY' })).flat();
        assert.deepEqual(
          items.map((i) => i.transactionId),
          [completed],
        );
        return items[0] as unknown as Record<string, unknown>;
      });
      assert.equal(jpy.status, 'completed');
      assert.ok(Date.parse(jpy.completedAt as string));
    });

    it('400 naming the query parameter for every bad value, never a 5xx', async function () {
      const other = await eventually(async () => {
        const r = await request(listApp).get('/api/transactions').query({ limit: '1', currency: 'EUR' });
        assert.ok(r.body.next_cursor);
        return r.body.next_cursor as string;
      });
      const forged = Buffer.from(JSON.stringify({ f: 'x', t: 'AAAA' })).toString('base64url');
      const cases: [string, string][] = [
        ['status=done', 'query.status'],
        ['status=pending&status=failed', 'query.status'],
        ['currency=XYZ', 'query.currency'],
        ['currency=eur', 'query.currency'],
        ['from=yesterday', 'query.from'],
        ['from=2026-02-30', 'query.from'],
        ['to=2026-11-23T10:00:00', 'query.to'],
        ['from=2026-11-23&to=2026-11-22', 'query.to'],
        ['limit=0', 'query.limit'],
        ['limit=1001', 'query.limit'],
        ['limit=1.5', 'query.limit'],
        ['limit=abc', 'query.limit'],
        ['cursor=not%20a%20cursor', 'query.cursor'],
        ['cursor=abc', 'query.cursor'],
        [`cursor=${forged}`, 'query.cursor'],
        // A real cursor, but issued for other filters.
        [`cursor=${other}`, 'query.cursor'],
        // A real cursor with its page token altered.
        [`currency=EUR&cursor=${tamper(other)}`, 'query.cursor'],
        ['currency=EUR%22%20OR%20WorkflowType%20%3D%20%22x', 'query.currency'],
        ['sort=asc', 'query'],
      ];
      for (const [query, field] of cases) {
        const res = await request(listApp).get(`/api/transactions?${query}`);
        assertProblem(res, 400, field);
      }
    });
  });

  describe('POST /api/transactions/:id/retry', function () {
    it('re-runs a failed transaction with the current policy: completed, posted exactly once', async function () {
      const id = await failedTransaction();
      assert.equal(mock.store.copies(id), 0);
      const res = await request(app).post(`/api/transactions/${id}/retry`);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.headers.location, `/api/transactions/${id}`);
      assert.equal(res.body.status, 'pending');
      const done = await statusOf(app, id, 'completed');
      assert.equal(done.outcome, 'posted');
      assert.equal(mock.store.copies(id), 1);
      // Two runs under the transaction's ID: the failed one and the retry.
      const runs = [];
      for await (const run of client.workflow.list({ query: `WorkflowId = "${id}"` })) runs.push(run);
      assert.deepEqual(runs.map((r) => r.status.name).sort(), ['COMPLETED', 'FAILED']);
      // Now completed: another retry is refused.
      assertProblem(await request(app).post(`/api/transactions/${id}/retry`), 409);
    });

    it('past its deadline, a transaction whose POST may be written stays processing until the downstream answers a look', async function () {
      // The POST is stored but its answer held past the client timeout; then every GET fails, past the deadline.
      mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 5_000 });
      const posts = mock.store.stats().requests.post;
      const id = await submit(shortApp, body());
      await eventually(() => assert.equal(mock.store.copies(id), 1), 10_000, 5);
      mock.faults.update({ getFailureRate: 1 });
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      assert.equal(
        (await request(app).get(`/api/transactions/${id}`)).body.status,
        'processing',
        'never failed',
      );
      mock.faults.update({ getFailureRate: 0, postWriteFailureRate: 0 });
      const done = await statusOf(app, id, 'completed', 90_000);
      assert.equal(done.outcome, 'already_present');
      assert.equal(mock.store.stats().requests.post, posts + 1, 'one POST');
      assert.equal(mock.store.copies(id), 1);
    });

    it('a retry of a terminated run waits out its POST in flight: stored once', async function () {
      // Every write lands 3 s after it arrived, the key ignored: a retry that looked at once would post again.
      mock.faults.update({ lateWriteRate: 1, lateWriteMs: 3_000, idempotency: 'ignore' });
      try {
        const id = await submit(app, body());
        await eventually(() => assert.equal(mock.store.stats().lateWrites.started >= 1, true), 10_000, 5);
        await client.workflow.getHandle(id).terminate('operator: stuck');
        const res = await request(app).post(`/api/transactions/${id}/retry`);
        assert.equal(res.status, 202, JSON.stringify(res.body));
        const done = await statusOf(app, id, 'completed', 30_000);
        assert.equal(
          done.outcome,
          'already_present',
          "the terminated run's write was found, not posted again",
        );
        assert.equal(mock.store.copies(id), 1);
      } finally {
        mock.faults.update({ lateWriteRate: 0, idempotency: 'honour' });
      }
    });

    it('409 for a running or completed transaction, 404 for an unknown one, 400 for a bad ID', async function () {
      const completed = await submit(app, body());
      await statusOf(app, completed, 'completed');
      assertProblem(await request(app).post(`/api/transactions/${completed}/retry`), 409);
      mock.faults.update({ outage: true });
      const running = await submit(app, body());
      await statusOf(app, running, 'processing');
      const res = await request(app).post(`/api/transactions/${running}/retry`);
      assertProblem(res, 409);
      assert.match(res.body.detail, /processing/);
      mock.faults.update({ outage: false });
      await statusOf(app, running, 'completed');
      assert.equal(mock.store.copies(running), 1);
      assertProblem(await request(app).post(`/api/transactions/ops-unknown-${randomUUID()}/retry`), 404);
      assertProblem(await request(app).post('/api/transactions/bad%20id/retry'), 400, 'path.id');
    });
  });

  describe('POST /api/transactions/:id/cancel', function () {
    it('before the POST: cancelled at once, and the downstream never gets it', async function () {
      mock.faults.update({ outage: true }); // every check fails: the workflow stays before its POST
      const id = await submit(app, body());
      await statusOf(app, id, 'processing');
      const res = await request(app).post(`/api/transactions/${id}/cancel`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'cancelled');
      assert.ok(res.body.completedAt);
      mock.faults.update({ outage: false });
      const state = await client.workflow.getHandle(id).result();
      assert.equal(state.status, 'cancelled');
      const read = await statusOf(app, id, 'cancelled');
      assert.equal(read.outcome, null);
      assert.equal((await request(app).get(`/v1/transactions/${id}`)).body.status, 'FAILED');
      // Idempotent: cancelling again answers the same.
      const again = await request(app).post(`/api/transactions/${id}/cancel`);
      assert.equal(again.status, 200);
      assert.equal(again.body.status, 'cancelled');
      // Cancelled is final: not retried.
      assertProblem(await request(app).post(`/api/transactions/${id}/retry`), 409);
      assert.equal(mock.store.copies(id), 0);
      assert.equal((await client.workflow.getHandle(id).describe()).status.name, 'COMPLETED');
    });

    it('while the POST is in flight: 409, and it ends completed, posted exactly once', async function () {
      // Stored, then the answer is held past the worker's 500 ms timeout: the POST is under way.
      mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 1_500 });
      const id = await submit(app, body());
      await eventually(() => assert.equal(mock.store.copies(id), 1), 10_000, 5);
      const res = await request(app).post(`/api/transactions/${id}/cancel`);
      assertProblem(res, 409);
      assert.match(res.body.detail, /may already have been posted/);
      mock.faults.update({ postWriteFailureRate: 0 });
      const done = await statusOf(app, id, 'completed');
      assert.equal(done.outcome, 'already_present');
      assert.equal(mock.store.copies(id), 1);
    });

    it('409 for a completed or failed one, 404 for an unknown one, 400 for a bad ID', async function () {
      const completed = await submit(app, body());
      await statusOf(app, completed, 'completed');
      const res = await request(app).post(`/api/transactions/${completed}/cancel`);
      assertProblem(res, 409);
      assert.match(res.body.detail, /already completed/);
      const failed = await failedTransaction();
      assertProblem(await request(app).post(`/api/transactions/${failed}/cancel`), 409);
      assertProblem(await request(app).post(`/api/transactions/ops-unknown-${randomUUID()}/cancel`), 404);
      assertProblem(await request(app).post('/api/transactions/bad%20id/cancel'), 400, 'path.id');
    });

    it('with no worker: 202, cancellation requested; the workflow applies it when a worker comes', async function () {
      const idle = uniqueTaskQueue('ops-idle');
      const idleApp = testApp(client, idle);
      const id = await submit(idleApp, body());
      const res = await request(idleApp).post(`/api/transactions/${id}/cancel`);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.status, 'pending');
      const late = await startWorker({ taskQueue: idle, postingUrl: mock.url, postingTimeoutMs: 500 });
      try {
        await statusOf(idleApp, id, 'cancelled');
      } finally {
        await late.stop();
      }
      assert.equal(mock.store.copies(id), 0);
    });
  });
});

/** The same cursor with its embedded page token cut in half. */
function tamper(cursor: string): string {
  const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { f: string; t: string };
  const token = Buffer.from(body.t, 'base64url');
  const cut = token.subarray(0, Math.floor(token.length / 2)).toString('base64url');
  return Buffer.from(JSON.stringify({ ...body, t: cut })).toString('base64url');
}
