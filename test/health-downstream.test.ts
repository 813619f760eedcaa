// /api/health and GET / show the downstream: a rate-limited probe of the posting service's GET /health, and
// transactions stalled in `processing` (a visibility count, plus the pending activity of a few of them). Real
// Temporal, a real worker, the mock over HTTP; a downstream problem is `degraded` with HTTP 200.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { DownstreamProbe } from '../src/api/health/downstream-probe';
import { freePort } from '../tools/shared/ports';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';

function appWith(client: Client, taskQueue: string, probe: DownstreamProbe | undefined): Express {
  const policy = fastPolicy({ deadlineMs: 120_000 });
  return testApp(client, taskQueue, policy, {}, { probe, stalledAfterMs: 1_000, sampleIntervalMs: 500 });
}

/** A downstream health endpoint that counts its requests and answers as told (or never). */
async function fakeHealth(): Promise<{
  url: string;
  hits: () => number;
  answer: (status: number | 'never') => void;
  stop(): Promise<void>;
}> {
  let hits = 0;
  let mode: number | 'never' = 200;
  const server: Server = http.createServer((_req, res) => {
    hits++;
    if (mode === 'never') return;
    res.writeHead(mode, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    answer: (m) => (mode = m),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('health: downstream degradation', function () {
  this.timeout(90_000);
  let client: Client;

  before(async function () {
    client = await testClient();
  });

  describe('the probe (GET <POSTING_SERVICE_URL>/health)', function () {
    it('probes at most once per interval, however often it is asked', async function () {
      const fake = await fakeHealth();
      const probe = new DownstreamProbe({ baseUrl: fake.url, intervalMs: 60_000, timeoutMs: 2_000 });
      try {
        const results = await Promise.all(Array.from({ length: 20 }, () => probe.current()));
        results.push(await probe.current());
        assert.equal(fake.hits(), 1);
        assert.ok(results.every((r) => r.ok && r.http_status === 200));
      } finally {
        await probe.close();
        await fake.stop();
      }
    });

    it('reports a non-2xx answer, a refused connection and no answer in time as not ok, with why', async function () {
      const fake = await fakeHealth();
      const probe = (url: string) => new DownstreamProbe({ baseUrl: url, intervalMs: 500, timeoutMs: 300 });
      try {
        fake.answer(503);
        const p503 = probe(fake.url);
        assert.deepEqual(
          (({ ok, http_status, error }) => ({ ok, http_status, error }))(await p503.current()),
          { ok: false, http_status: 503, error: 'HTTP 503' },
        );
        fake.answer('never');
        const hang = probe(fake.url);
        const hung = await hang.current();
        assert.equal(hung.ok, false);
        assert.equal(hung.error, 'timeout');
        const refused = probe(`http://127.0.0.1:${await freePort()}`);
        const r = await refused.current();
        assert.equal(r.ok, false);
        assert.equal(r.error, 'ECONNREFUSED');
        await Promise.all([p503.close(), hang.close(), refused.close()]);
      } finally {
        await fake.stop();
      }
    });
  });

  describe('/api/health and GET /', function () {
    let mock: RunningMock;
    let worker: RunningWorker;
    let taskQueue: string;

    before(async function () {
      mock = await startMock();
      taskQueue = uniqueTaskQueue('health-downstream');
      worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 1_000 });
    });

    after(async function () {
      await worker?.stop();
      await mock?.stop();
    });

    it('ok when the downstream answers its health and nothing is stalled', async function () {
      const probe = new DownstreamProbe({ baseUrl: mock.url, intervalMs: 500, timeoutMs: 1_000 });
      const app = appWith(client, taskQueue, probe);
      const res = await request(app).get('/api/health');
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'OK');
      assert.equal(res.body.downstream.status, 'ok');
      assert.equal(res.body.downstream.probe.ok, true);
      assert.equal(res.body.downstream.probe.url, `${mock.url}/health`);
      assert.equal(res.body.downstream.stalled.count, 0);
      const root = await request(app).get('/');
      assert.equal(root.body.status, 'healthy');
      assert.equal(root.body.downstream.status, 'ok');
      await probe.close();
    });

    it('down (overall degraded, still HTTP 200) when the downstream does not answer its health', async function () {
      const probe = new DownstreamProbe({
        baseUrl: `http://127.0.0.1:${await freePort()}`,
        intervalMs: 500,
        timeoutMs: 1_000,
      });
      const app = appWith(client, taskQueue, probe);
      const res = await request(app).get('/api/health');
      assert.equal(res.status, 200, 'a load balancer keeps the API: it still accepts transactions');
      assert.equal(res.body.status, 'DEGRADED');
      assert.equal(res.body.temporal.reachable, true);
      assert.equal(res.body.downstream.status, 'down');
      assert.equal(res.body.downstream.probe.error, 'ECONNREFUSED');
      const root = await request(app).get('/');
      assert.equal(root.status, 200);
      assert.equal(root.body.status, 'degraded');
      assert.equal(root.body.downstream.status, 'down');
      await probe.close();
    });

    it('degraded while transactions stall on a failing downstream (with their attempt and last failure), ok again after', async function () {
      // The mock's outage answers 503 everywhere but /health: its health endpoint says all is well.
      const probe = new DownstreamProbe({ baseUrl: mock.url, intervalMs: 500, timeoutMs: 1_000 });
      const app = appWith(client, taskQueue, probe);
      mock.faults.update({ outage: true });
      const id = `health-${randomUUID()}`;
      try {
        const submit = await request(app).post('/api/transactions').send({
          id,
          amount: '5.00',
          currency: 'EUR',
          source_account: 'acc_a',
          destination_account: 'acc_b',
        });
        assert.equal(submit.status, 202);
        const during = await eventually(async () => {
          const res = await request(app).get('/api/health');
          assert.equal(res.status, 200);
          assert.equal(res.body.downstream.status, 'degraded', JSON.stringify(res.body.downstream));
          assert.ok(res.body.downstream.stalled.sample.some((s: { attempt: number }) => s.attempt > 1));
          return res.body;
        }, 30_000);
        assert.equal(during.status, 'DEGRADED');
        assert.equal(during.downstream.probe.ok, true, 'its health endpoint still answered');
        assert.ok(during.downstream.stalled.count >= 1);
        const sample = during.downstream.stalled.sample.find(
          (s: { transaction_id: string }) => s.transaction_id === id,
        );
        assert.ok(sample, JSON.stringify(during.downstream.stalled));
        assert.match(sample.last_failure ?? '', /503/);
        assert.equal(sample.activity, 'checkExists');
        const root = await request(app).get('/');
        assert.equal(root.body.status, 'degraded');
      } finally {
        mock.faults.update({ outage: false });
      }
      await eventually(async () => {
        const res = await request(app).get(`/api/transactions/${id}`);
        assert.equal(res.body.status, 'completed');
      }, 30_000);
      const after = await eventually(async () => {
        const res = await request(app).get('/api/health');
        assert.equal(res.body.status, 'OK', JSON.stringify(res.body.downstream));
        return res.body;
      }, 10_000);
      assert.equal(after.downstream.stalled.count, 0);
      await probe.close();
    });

    it('without a probe (POSTING_SERVICE_URL unset for the API) the downstream is judged by stalled transactions only', async function () {
      const res = await request(appWith(client, taskQueue, undefined)).get('/api/health');
      assert.equal(res.body.downstream.probe, null);
      assert.equal(res.body.downstream.status, 'ok');
    });
  });
});
