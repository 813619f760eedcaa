import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { postingRateOf } from '../src/domain/posting-rate';
import { apiSettings } from '../src/config/api';
import { ConfigError } from '../src/config/env';
import { workerSettings } from '../src/config/worker';
import { testApp } from './support/api';
import { maxInWindow, startCountingMock, type CountingMock } from './support/counting-mock';
import { eventually } from './support/eventually';
import { startWorker, testClient, type RunningWorker } from './support/harness';
import { runProcess } from './support/run-process';
import { uniqueTaskQueue } from './support/temporal';

const RATE = '/api/admin/posting-rate';
// The dev server splits a task queue into 4 partitions; each gets cap/4 per second and a bucket of
// ceil(cap/4) tasks, so after an idle spell the queue may dispatch that many at once (docs/decisions/0008).
const PARTITIONS = 4;
const burstOf = (cap: number) => PARTITIONS * Math.max(1, Math.ceil(cap / PARTITIONS));

/** Calls in each whole second from the first. */
function perSecondCounts(calls: readonly number[]): number[] {
  const first = calls[0] ?? 0;
  const counts: number[] = [];
  for (const t of calls) {
    const i = Math.floor((t - first) / 1000);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return Array.from(counts, (c) => c ?? 0);
}

const body = () => ({
  id: `rate-${randomUUID()}`,
  amount: '10.00',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
});

describe('posting rate cap, changeable at run time (real Temporal, worker, mock over HTTP)', function () {
  this.timeout(120_000);
  let client: Client;
  let mock: CountingMock;
  let worker: RunningWorker;
  let app: Express;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    mock = await startCountingMock();
    taskQueue = uniqueTaskQueue('rate');
    worker = await startWorker({ taskQueue, postingUrl: mock.url });
    app = testApp(client, taskQueue);
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  it('reads as no cap, refuses a bad value naming the field, and shows a new value in health and /metrics', async function () {
    const none = await request(app).get(RATE);
    assert.equal(none.status, 200, JSON.stringify(none.body));
    assert.deepEqual([none.body.max_per_second, none.body.source], [null, 'none']);

    for (const bad of [{ max_per_second: 0 }, { max_per_second: -1 }, { max_per_second: '5' }, {}]) {
      const res = await request(app).put(RATE).send(bad);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        ['body.max_per_second'],
      );
    }
    const unknown = await request(app).put(RATE).send({ max_per_second: 5, burst: 3 });
    assert.equal(unknown.status, 400);

    const set = await request(app).put(RATE).send({ max_per_second: 7.5 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual([set.body.max_per_second, set.body.source], [7.5, 'operator']);
    assert.match(set.body.operator.reason, /7\.5/);

    const health = await eventually(async () => {
      const res = await request(app).get('/api/health');
      assert.deepEqual(res.body.posting_rate, { max_per_second: 7.5, source: 'operator' });
      return res;
    }, 5_000);
    assert.equal(health.status, 200);
    const metrics = await request(app).get('/metrics');
    assert.match(metrics.text, /^txflow_posting_max_per_second 7\.5$/m);
    // Another API process, whose admin route nobody called, reads the cap from Temporal at each scrape.
    const other = testApp(client, taskQueue);
    assert.match((await request(other).get('/metrics')).text, /^txflow_posting_max_per_second 7\.5$/m);
  });

  it('keeps the downstream at the cap under a load four times above it, then lifts it at run time', async function () {
    const cap = 5;
    assert.equal((await request(app).put(RATE).send({ max_per_second: cap })).status, 200);
    const started = mock.calls.length;
    // 40 transactions at once: 80 downstream calls (a check and a post each), 16 s at the cap; offered in
    // about a second, so the queue holds far more than the cap allows.
    const bodies = Array.from({ length: 40 }, body);
    const batch = await request(app).post('/api/transactions/batch').send({ transactions: bodies });
    assert.equal(batch.status, 200, JSON.stringify(batch.body).slice(0, 300));
    await eventually(() => assert.ok(bodies.every((b) => mock.store.copies(b.id) > 0)), 60_000, 200);
    const calls = mock.calls.slice(started);
    const n = calls.length;
    const spanS = ((calls.at(-1) ?? 0) - (calls[0] ?? 0)) / 1000;
    const perSecond = maxInWindow(calls, 1_000);
    const perFive = maxInWindow(calls, 5_000);
    const buckets = perSecondCounts(calls).join(' ');
    process.stdout.write(
      `      per second: ${buckets}\n` +
        `      cap ${cap}/s: ${n} calls in ${spanS.toFixed(1)} s (${(n / spanS).toFixed(2)}/s), ` +
        `most in any 1 s: ${perSecond}, in any 5 s: ${perFive} (burst allowance ${burstOf(cap)})\n`,
    );
    assert.ok(perSecond <= cap + burstOf(cap), `${perSecond} calls in one second`);
    assert.ok(perFive <= 5 * cap + burstOf(cap), `${perFive} calls in five seconds`);
    assert.ok(n >= 80, `${n} calls`);
    assert.ok(n / spanS <= cap * 1.25, `average ${n / spanS}/s`);
    // Each transaction posted exactly once, with its amount.
    for (const b of bodies) assert.equal(mock.store.copies(b.id), 1, b.id);

    const lifted = await request(app).put(RATE).send({ max_per_second: null });
    assert.equal(lifted.status, 200);
    assert.deepEqual([lifted.body.max_per_second, lifted.body.source], [null, 'none']);
    assert.equal(lifted.body.operator.max_per_second, null);
  });

  it('a lower cap set while a backlog runs applies at once, without restarting anything', async function () {
    assert.equal((await request(app).put(RATE).send({ max_per_second: 10 })).status, 200);
    const started = mock.calls.length;
    const bodies = Array.from({ length: 30 }, body);
    const batch = await request(app).post('/api/transactions/batch').send({ transactions: bodies });
    assert.equal(batch.status, 200);
    await eventually(() => assert.ok(mock.calls.length - started >= 10), 20_000, 50);
    assert.equal((await request(app).put(RATE).send({ max_per_second: 2 })).status, 200);
    const changedAt = Date.now();
    await eventually(() => assert.ok(bodies.every((b) => mock.store.copies(b.id) === 1)), 90_000, 200);
    // A second for the new rate to reach every partition; from then on, the lower cap.
    const after = mock.calls.filter((t) => t >= changedAt + 1_000);
    const perFive = maxInWindow(after, 5_000);
    process.stdout.write(
      `      cap 10/s then 2/s: ${mock.calls.length - started} calls, ${after.length} after the change, ` +
        `most in any 5 s after it: ${perFive} (bound ${5 * 2 + burstOf(2)})\n`,
    );
    assert.ok(after.length >= 10, `${after.length} calls after the change: the backlog was gone`);
    assert.ok(perFive <= 5 * 2 + burstOf(2), `${perFive} calls in five seconds at a cap of 2`);
    assert.equal((await request(app).put(RATE).send({ max_per_second: null })).status, 200);
  });

  it("shows the workers' POSTING_MAX_PER_SECOND, which an operator value overrides until removed", async function () {
    const taskQueue = uniqueTaskQueue('rate-worker');
    const capped = await startWorker({ taskQueue, postingUrl: mock.url, postingMaxPerSecond: 3 });
    try {
      const workerApp = testApp(client, taskQueue);
      const showsWorkerCap = () =>
        eventually(
          async () => {
            const res = await request(workerApp).get(RATE);
            assert.deepEqual([res.body.max_per_second, res.body.source], [3, 'worker']);
          },
          20_000,
          200,
        );
      await showsWorkerCap();
      const over = await request(workerApp).put(RATE).send({ max_per_second: 12 });
      assert.deepEqual([over.body.max_per_second, over.body.source], [12, 'operator']);
      await request(workerApp).put(RATE).send({ max_per_second: null });
      await showsWorkerCap();
    } finally {
      await capped.stop();
    }
  });

  it('npm run posting-rate: sets, shows and removes the cap; refuses a bad value with exit code 2', async function () {
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cli = (...args: string[]) =>
      runProcess(
        process.execPath,
        ['dist/tools/ops/posting-rate-main.js', ...args, '--api-url', url],
        { PATH: process.env.PATH },
        20_000,
      );
    try {
      const set = await cli('4');
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /posting rate: 4\/s \(source: operator\)/);
      const shown = await cli('--json');
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).max_per_second, 4);
      const removed = await cli('none');
      assert.match(removed.stdout, /no cap \(source: none\)/);
      const bad = await cli('-3x');
      assert.equal(bad.code, 2);
      const zero = await cli('0');
      assert.equal(zero.code, 2);
      assert.match(zero.stderr, /above 0/);
      const help = await runProcess(
        process.execPath,
        ['dist/tools/ops/posting-rate-main.js', '--help'],
        {},
        10_000,
      );
      assert.match(help.stdout, /npm run posting-rate/);
      const down = await runProcess(
        process.execPath,
        ['dist/tools/ops/posting-rate-main.js', '--api-url', 'http://127.0.0.1:1'],
        {},
        10_000,
      );
      assert.equal(down.code, 3, down.stderr);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reads the source from what Temporal answers (pure)', function () {
    const worker = { requestsPerSecond: 3, rateLimitSource: 2 };
    assert.deepEqual(postingRateOf(null, worker).source, 'worker');
    assert.deepEqual(postingRateOf({ queueRateLimit: { rateLimit: { requestsPerSecond: 0.1 } } }, worker), {
      max_per_second: 0.1,
      source: 'operator',
      operator: { max_per_second: 0.1, reason: null, updated_at: null },
    });
    assert.equal(
      postingRateOf({ queueRateLimit: { metadata: { reason: 'x' } } }, { rateLimitSource: 3 }).source,
      'none',
    );
  });

  it('POSTING_MAX_PER_SECOND and REDRIVE_MAX_PER_SECOND: a bad value stops start-up naming the variable (pure)', function () {
    assert.equal(workerSettings({}).postingMaxPerSecond, undefined);
    assert.equal(workerSettings({ POSTING_MAX_PER_SECOND: '2.5' }).postingMaxPerSecond, 2.5);
    for (const bad of ['0', '-1', 'fast', '100001']) {
      assert.throws(
        () => workerSettings({ POSTING_MAX_PER_SECOND: bad }),
        (err: unknown) => err instanceof ConfigError && /POSTING_MAX_PER_SECOND/.test(err.message),
        bad,
      );
    }
    assert.equal(apiSettings({}).redriveMaxPerSecond, 20);
    assert.throws(
      () => apiSettings({ REDRIVE_MAX_PER_SECOND: '0' }),
      (err: unknown) => err instanceof ConfigError && /REDRIVE_MAX_PER_SECOND/.test(err.message),
    );
  });
});
