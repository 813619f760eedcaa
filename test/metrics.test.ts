import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import { request as httpRequest } from 'undici';
import { appParts } from '../src/api/http/app';
import { collectProcessMetrics, UNMATCHED_ROUTE } from '../src/api/metrics/metrics';
import { apiSettings } from '../src/config/api';
import { createPostingClient } from '../src/posting/posting-client';
import type { ManagedProcess } from '../tools/shared/processes';
import { processTransaction } from '../src/workflows';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, testClient } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { startWorkerProcess } from './support/worker-process';
import { uniqueTaskQueue } from './support/temporal';

const API_KEY = 'metrics-test-key-0123456789';

/** Prometheus text → the sum of the series `name` whose labels include `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Every value the label `label` takes in the series named `name`. */
function labelValues(text: string, name: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\b${label}="([^"]*)"`, 'gm')))
    values.add(m[1] ?? '');
  return values;
}

const body = (overrides: Record<string, unknown> = {}) => ({
  id: `metrics-${randomUUID()}`,
  amount: '150.50',
  currency: 'INR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  ...overrides,
});

const webhook = (overrides: Record<string, unknown> = {}) => ({
  transaction_id: `metrics-v1-${randomUUID()}`,
  source_account: 'acc_a',
  destination_account: 'acc_b',
  amount: 99.9,
  currency: 'USD',
  ...overrides,
});

describe('metrics', function () {
  let client: Client;
  let app: Express;

  const scrape = async (target: Express = app) => {
    const res = await request(target).get('/metrics');
    assert.equal(res.status, 200, res.text);
    return res.text;
  };

  before(async function () {
    client = await testClient();
    const registry = new Registry();
    collectProcessMetrics(registry);
    // No worker polls this queue: every transaction stays pending, which is all submissions need.
    app = testApp(client, uniqueTaskQueue('metrics'), undefined, { metricsRegistry: registry });
  });

  describe('GET /metrics on the API', function () {
    it("serves Prometheus text with Node's process metrics and every submission series from 0", async function () {
      const res = await request(app).get('/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
      for (const name of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.match(res.text, new RegExp(`^${name} `, 'm'), name);
      }
      assert.match(res.text, /^# TYPE txflow_api_http_request_duration_seconds histogram$/m);
      assert.match(res.text, /^# TYPE txflow_api_http_requests_total counter$/m);
      for (const dialect of ['api', 'v1']) {
        for (const outcome of ['accepted', 'duplicate', 'conflict', 'rejected']) {
          assert.match(
            res.text,
            new RegExp(
              `^txflow_api_submissions_total\\{dialect="${dialect}",outcome="${outcome}"\\} \\d+$`,
              'm',
            ),
          );
        }
      }
      for (const eager of ['true', 'false']) {
        assert.match(
          res.text,
          new RegExp(`^txflow_api_workflow_starts_total\\{eager="${eager}"\\} \\d+$`, 'm'),
        );
      }
    });

    it('counts accepted, duplicate, conflict and rejected submissions by dialect', async function () {
      const before = await scrape();
      const count = (text: string, dialect: string, outcome: string) =>
        sample(text, 'txflow_api_submissions_total', { dialect, outcome });

      const b = body();
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 200);
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 200);
      assert.equal(
        (
          await request(app)
            .post('/api/transactions')
            .send({ ...b, amount: '1.00' })
        ).status,
        409,
      );
      assert.equal(
        (
          await request(app)
            .post('/api/transactions')
            .send(body({ currency: 'XYZ' }))
        ).status,
        400,
      );
      const malformed = await request(app).post('/api/transactions').type('json').send('{"amount":');
      assert.equal(malformed.status, 400, 'refused before routing, still a rejection');
      assert.equal((await request(app).post('/api/transactions').type('text').send('hi')).status, 415);

      const w = webhook();
      assert.equal((await request(app).post('/v1/webhooks/transactions').send(w)).status, 202);
      assert.equal(
        (await request(app).post('/v1/webhooks/transactions').send(w)).status,
        202,
        'a repeat: 202',
      );
      assert.equal(
        (
          await request(app)
            .post('/v1/webhooks/transactions')
            .send({ ...w, amount: 1 })
        ).status,
        409,
      );
      assert.equal(
        (
          await request(app)
            .post('/v1/webhooks/transactions')
            .send(webhook({ amount: -1 }))
        ).status,
        400,
      );

      const after = await scrape();
      const delta = (dialect: string, outcome: string) =>
        count(after, dialect, outcome) - count(before, dialect, outcome);
      assert.deepEqual(
        {
          accepted: delta('api', 'accepted'),
          duplicate: delta('api', 'duplicate'),
          conflict: delta('api', 'conflict'),
          rejected: delta('api', 'rejected'),
        },
        { accepted: 1, duplicate: 2, conflict: 1, rejected: 3 },
      );
      assert.deepEqual(
        {
          accepted: delta('v1', 'accepted'),
          duplicate: delta('v1', 'duplicate'),
          conflict: delta('v1', 'conflict'),
          rejected: delta('v1', 'rejected'),
        },
        { accepted: 1, duplicate: 1, conflict: 1, rejected: 1 },
      );
      // One run started per accepted submission; none eagerly (this client is not on a worker's connection).
      const starts = (text: string, eager: string) =>
        sample(text, 'txflow_api_workflow_starts_total', { eager });
      assert.deepEqual(
        {
          eager: starts(after, 'true') - starts(before, 'true'),
          not: starts(after, 'false') - starts(before, 'false'),
        },
        { eager: 0, not: 2 },
      );
      // The same requests, by route and status.
      const requests = (text: string, method: string, route: string, status: string) =>
        sample(text, 'txflow_api_http_requests_total', { method, route, status });
      assert.equal(
        requests(after, 'POST', '/api/transactions', '200') -
          requests(before, 'POST', '/api/transactions', '200'),
        2,
      );
      assert.equal(
        requests(after, 'POST', '/v1/webhooks/transactions', '202') -
          requests(before, 'POST', '/v1/webhooks/transactions', '202'),
        2,
      );
    });

    it('labels requests by route pattern, never by URL: the series stay bounded however many IDs are asked for', async function () {
      const before = await scrape();
      const ids = Array.from({ length: 25 }, () => `unknown-${randomUUID()}`);
      for (const id of ids) {
        assert.equal((await request(app).get(`/api/transactions/${id}`)).status, 404);
        assert.equal((await request(app).get(`/v1/transactions/${id}`)).status, 404);
        assert.equal((await request(app).get(`/no/such/${id}`)).status, 404);
      }
      const after = await scrape();
      for (const id of ids) assert.equal(after.includes(id), false, 'no raw ID in any label');

      const key = { method: 'GET', route: '/api/transactions/:id', status: '404' };
      const counted = sample(after, 'txflow_api_http_requests_total', key);
      assert.equal(counted - sample(before, 'txflow_api_http_requests_total', key), 25);
      const v1 = { method: 'GET', route: '/v1/transactions/:transaction_id', status: '404' };
      assert.equal(
        sample(after, 'txflow_api_http_requests_total', v1) -
          sample(before, 'txflow_api_http_requests_total', v1),
        25,
      );
      const unmatched = { method: 'GET', route: UNMATCHED_ROUTE, status: '404' };
      assert.equal(
        sample(after, 'txflow_api_http_requests_total', unmatched) -
          sample(before, 'txflow_api_http_requests_total', unmatched),
        25,
      );

      // The histogram counts the same requests, and its buckets are cumulative up to +Inf = count.
      assert.equal(sample(after, 'txflow_api_http_request_duration_seconds_count', key), counted);
      assert.equal(
        sample(after, 'txflow_api_http_request_duration_seconds_bucket', { ...key, le: '+Inf' }),
        counted,
      );
      const buckets = [
        ...after.matchAll(
          /^txflow_api_http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",route="\/api\/transactions\/:id",status="404"\} (\d+)$/gm,
        ),
      ].map((m) => Number(m[2]));
      assert.ok(buckets.length >= 10);
      for (let i = 1; i < buckets.length; i++)
        assert.ok(buckets[i]! >= buckets[i - 1]!, 'cumulative buckets');
      assert.ok(sample(after, 'txflow_api_http_request_duration_seconds_sum', key) > 0);

      // Only the app's route patterns and one "unmatched" ever appear.
      const patterns = new Set([
        ...appParts(app)
          .routes.routes()
          .map((r) => r.path),
        UNMATCHED_ROUTE,
      ]);
      for (const route of labelValues(after, 'txflow_api_http_requests_total', 'route')) {
        assert.ok(patterns.has(route), `route label ${route}`);
      }
    });

    it('keeps one registry per app (two apps in one process neither clash nor share counts)', async function () {
      const other = testApp(client, uniqueTaskQueue('metrics-other'));
      const again = testApp(client, uniqueTaskQueue('metrics-other'));
      await request(other).get('/api/transactions/one-app-only');
      const otherText = await scrape(other);
      assert.equal(
        sample(otherText, 'txflow_api_http_requests_total', { route: '/api/transactions/:id' }),
        1,
      );
      assert.equal(
        sample(await scrape(again), 'txflow_api_http_requests_total', { route: '/api/transactions/:id' }),
        0,
      );
      assert.doesNotMatch(
        otherText,
        /^process_cpu/m,
        'process metrics only where main.ts (or a test) adds them',
      );
    });

    it('needs an API key when API_KEYS is set, and counts the refusals under the route they were meant for', async function () {
      const keyed = testApp(client, uniqueTaskQueue('metrics-keys'), undefined, { apiKeys: [API_KEY] });
      const refused = await request(keyed).get('/metrics');
      assert.equal(refused.status, 401);
      assert.match(refused.headers['content-type'] ?? '', /application\/problem\+json/);
      assert.equal((await request(keyed).post('/api/transactions').send(body())).status, 401);
      const text = (await request(keyed).get('/metrics').set('Authorization', `Bearer ${API_KEY}`)).text;
      assert.equal(
        sample(text, 'txflow_api_http_requests_total', { method: 'GET', route: '/metrics', status: '401' }),
        1,
      );
      assert.equal(
        sample(text, 'txflow_api_http_requests_total', {
          method: 'POST',
          route: '/api/transactions',
          status: '401',
        }),
        1,
      );
      assert.equal(
        sample(text, 'txflow_api_submissions_total', { dialect: 'api', outcome: 'rejected' }),
        0,
        '401 is not a rejection',
      );
      assert.equal((await request(keyed).get('/metrics').set('X-API-Key', API_KEY)).status, 200);
    });

    it('is off with METRICS_ENABLED=false; the setting is validated', async function () {
      assert.equal(apiSettings({}).metricsEnabled, true);
      assert.equal(apiSettings({ METRICS_ENABLED: 'false' }).metricsEnabled, false);
      assert.equal(apiSettings({ DOCS_ENABLED: '0' }).docsEnabled, false);
      assert.throws(
        () => apiSettings({ METRICS_ENABLED: 'maybe' }),
        /METRICS_ENABLED="maybe": must be true or false/,
      );
      const off = testApp(client, uniqueTaskQueue('metrics-off'), undefined, { metricsEnabled: false });
      const res = await request(off).get('/metrics');
      assert.equal(res.status, 404);
    });
  });

  describe("the worker process's metrics endpoint (WORKER_METRICS_ADDRESS)", function () {
    this.timeout(180_000);
    let mock: RunningMock;
    let worker: ManagedProcess;
    let metricsUrl: string;
    let taskQueue: string;

    before(async function () {
      mock = await startMock();
      taskQueue = uniqueTaskQueue('metrics-worker');
      // The mock answers a pre-write failure with 500, 502 or 503 at random; this worker is told they all mean
      // "not processed", so that the counts below do not depend on the draw (the look before each re-POST still
      // catches the mock's post-write errors, which are written).
      ({ process: worker, metricsUrl } = await startWorkerProcess(taskQueue, mock.url, 120_000, {
        POSTING_NOT_PROCESSED_STATUSES: '500,502,503',
      }));
    });

    after(async function () {
      await worker?.stop(10_000);
      await mock?.stop();
    });

    async function run(tx = newTransaction()) {
      const handle = await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: tx.id,
        args: [{ transaction: tx, policy: fastPolicy() }],
      });
      return handle;
    }

    it('counts each downstream outcome: found, posted, pre-write failure, post-write recovery, rejected', async function () {
      // Already downstream: the first check finds it.
      const present = newTransaction();
      const posting = createPostingClient({ baseUrl: mock.url, timeoutMs: 2_000, amountFormat: 'number' });
      await posting.post(present);
      await posting.close();
      assert.equal((await (await run(present)).result()).outcome, 'already_present');

      // Pre-write failures (5xx, nothing stored) until the fault is lifted: each retry looks, finds nothing, posts.
      mock.faults.update({ preWriteFailureRate: 1 });
      const preWrite = await run();
      await eventually(() => assert.ok(mock.store.stats().faults.preWrite >= 1));
      mock.faults.update({ preWriteFailureRate: 0 });
      assert.equal((await preWrite.result()).outcome, 'posted');
      const preWriteFaults = mock.store.stats().faults.preWrite;

      // A post-write failure (stored, then a 5xx): the retry finds it and does not post again.
      mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'error' });
      const postWrite = await run();
      await eventually(() => assert.equal(mock.store.stats().faults.postWrite, 1));
      mock.faults.update({ postWriteFailureRate: 0 });
      assert.equal((await postWrite.result()).outcome, 'already_present');

      // A rejection (the mock refuses a lower-case currency with 400): final, no retry.
      await assert.rejects((await run(newTransaction({ currency: 'inr' }))).result());

      const outcomes = (text: string) =>
        Object.fromEntries(
          [
            'found',
            'absent',
            'posted',
            'pre_write_failure',
            'post_write_recovery',
            'rejected',
            'not_written',
            'unknown',
            'unavailable',
            'timeout',
          ].map((outcome) => [outcome, sample(text, 'txflow_downstream_outcomes', { outcome })]),
        );
      await eventually(async () => {
        const text = await (await httpRequest(metricsUrl)).body.text();
        assert.deepEqual(outcomes(text), {
          found: 1,
          // The three first checks, and the look before "failed" after the rejection.
          absent: 4,
          posted: 1,
          pre_write_failure: preWriteFaults,
          post_write_recovery: 1,
          rejected: 1,
          not_written: preWriteFaults + 1,
          unknown: 0,
          unavailable: 0,
          timeout: 0,
        });
        assert.match(text, /^temporal_activity_execution_latency/m, "and the Temporal SDK's own metrics");
        assert.match(text, /^temporal_worker_task_slots_available/m);
      });
    });

    it("shows the circuit breaker's state: closed 0, open 2 in an outage, closed again after it", async function () {
      const state = async () => {
        const text = await (await httpRequest(metricsUrl)).body.text();
        assert.match(text, /^txflow_breaker_state /m, 'the gauge is there');
        return sample(text, 'txflow_breaker_state');
      };
      assert.equal(await state(), 0);
      // Reads failing: the breaker's 20 calls come from a few transactions' check retries.
      mock.faults.update({ outage: true });
      const runs = await Promise.all([1, 2, 3, 4].map(() => run()));
      await eventually(async () => assert.equal(await state(), 2), 60_000, 250);
      mock.faults.update({ outage: false });
      // The next probe (every 5 s) succeeds; only reads had failed, so it closes.
      await eventually(async () => assert.equal(await state(), 0), 30_000, 250);
      for (const handle of runs) assert.equal((await handle.result()).status, 'completed');
    });
  });
});
