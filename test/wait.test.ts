import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { appParts } from '../src/api/http/app';
import { preferredWait } from '../src/api/transactions/wait';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { startGrpcHeaderProxy, type GrpcHeaderProxy } from './support/grpc-header-proxy';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { measureWaitLatency } from './tools/wait-latency';

const MAX_WAIT = 10;

const body = (overrides: Record<string, unknown> = {}) => ({
  id: `wait-${randomUUID()}`,
  amount: '150.50',
  currency: 'INR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  ...overrides,
});

function assertProblem(res: request.Response, field: string) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
  assert.deepEqual(fields, [field]);
}

/** One series of the app's metrics, as /metrics shows it. */
async function metric(app: Express, series: string): Promise<number> {
  const text = await appParts(app).metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} in /metrics`);
  return Number(line.split(' ')[1]);
}

const timed = async <T>(fn: () => Promise<T>) => {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
};

describe('preferredWait: the wait of a Prefer header (RFC 7240)', function () {
  it('reads wait among other preferences, first one counting, name in any case, value quoted or not', function () {
    const read = (header: string | undefined) => preferredWait(header, 30);
    assert.equal(read(undefined), undefined);
    assert.equal(read('respond-async, return=minimal'), undefined);
    assert.equal(read('wait=5'), 5);
    assert.equal(read(' WAIT = 7 ; foo=bar'), 7);
    assert.equal(read('respond-async, wait="4"'), 4);
    assert.equal(read('foo="a,b", wait=2'), 2);
    assert.equal(read('wait=1, wait=x'), 1);
    assert.equal(read('wait=000030'), 30);
    for (const bad of ['wait=31', 'wait="x', 'wait=-0', 'wait', 'wait=1 2']) {
      assert.throws(
        () => read(bad),
        /header\.Prefer: wait must be a whole number of seconds from 0 to 30/,
        bad,
      );
    }
    assert.throws(() => preferredWait('wait=1', 0), /turned off on this server \(API_MAX_WAIT_SECONDS=0\)/);
  });

  it('costs no backtracking on a header as large as Node lets in', function () {
    for (const header of [`wait${' '.repeat(16_000)}x`, '"'.repeat(16_000), `wait=${' '.repeat(16_000)};`]) {
      const started = performance.now();
      try {
        preferredWait(header, 30);
      } catch {
        // a 400 is fine: only the time matters here
      }
      assert.ok(
        performance.now() - started < 20,
        `${header.slice(0, 10)}…: ${performance.now() - started} ms`,
      );
    }
  });
});

describe('Prefer: wait and ?wait (real API, Temporal, worker and mock)', function () {
  this.timeout(90_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  /** Transactions processed by the worker (the mock answers at once unless told otherwise). */
  let app: Express;
  /** The same, with a one-second deadline: a transaction fails fast during an outage. */
  let shortApp: Express;
  /** No worker polls its queue: its transactions stay pending. */
  let idleApp: Express;

  before(async function () {
    client = await testClient();
    mock = await startMock();
    const taskQueue = uniqueTaskQueue('wait');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 500 });
    app = testApp(client, taskQueue, fastPolicy(), { maxWaitSeconds: MAX_WAIT });
    shortApp = testApp(client, taskQueue, fastPolicy({ deadlineMs: 1_000 }), { maxWaitSeconds: MAX_WAIT });
    idleApp = testApp(client, uniqueTaskQueue('wait-idle'), fastPolicy(), { maxWaitSeconds: MAX_WAIT });
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  beforeEach(function () {
    mock.faults.update({ outage: false });
  });

  describe('POST /api/transactions with Prefer: wait=N', function () {
    it('a transaction that ends in time: 201 with its final view; a resend: 200, final', async function () {
      const b = body();
      const first = await request(app)
        .post('/api/transactions')
        .set('Prefer', `respond-async, wait=${MAX_WAIT}`)
        .send(b);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.status, 'completed');
      assert.equal(first.body.outcome, 'posted');
      assert.equal(first.headers['preference-applied'], `wait=${MAX_WAIT}`);
      assert.equal(first.headers.location, `/api/transactions/${b.id}`);
      assert.equal(mock.store.copies(b.id), 1, 'posted downstream once');

      const again = await request(app).post('/api/transactions').set('Prefer', 'wait=5').send(b);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.status, 'completed');
      assert.equal(again.headers['preference-applied'], 'wait=5');
    });

    it('a transaction still running after N s: 202 after N s, its current view', async function () {
      mock.faults.update({ outage: true });
      const before = await metric(app, 'txflow_api_waits_total{kind="result",outcome="timeout"}');
      const labels = '{method="POST",route="/api/transactions",status="202"}';
      const requests = async () =>
        await metric(app, `txflow_api_http_requests_total${labels}`).catch(() => 0);
      const timed202 = async () =>
        await metric(app, `txflow_api_http_request_duration_seconds_count${labels}`).catch(() => 0);
      const [requestsBefore, timedBefore] = [await requests(), await timed202()];
      const { value: res, ms } = await timed(() =>
        request(app).post('/api/transactions').set('Prefer', 'wait=2').send(body()),
      );
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.headers['preference-applied'], 'wait=2');
      assert.ok(['pending', 'processing'].includes(res.body.status as string), res.body.status);
      assert.ok(ms >= 1_900 && ms < 6_000, `answered after ${ms} ms`);
      assert.equal(await metric(app, 'txflow_api_waits_total{kind="result",outcome="timeout"}'), before + 1);
      // Counted as a request, but its 2 s are the client's choice: kept out of the latency histogram.
      assert.equal(await requests(), requestsBefore + 1);
      assert.equal(await timed202(), timedBefore);
    });

    it('a transaction that fails in time: 201 with the failed view GET shows', async function () {
      mock.faults.update({ outage: true });
      const b = body();
      const res = await request(shortApp).post('/api/transactions').set('Prefer', 'wait=8').send(b);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'failed');
      const read = await request(app).get(`/api/transactions/${b.id}`);
      assert.deepEqual(res.body, read.body);
    });

    it('wait=0 and no wait preference: nothing waited; only wait=0 says Preference-Applied', async function () {
      const zero = await request(idleApp).post('/api/transactions').set('Prefer', 'wait=0').send(body());
      assert.equal(zero.status, 202);
      assert.equal(zero.headers['preference-applied'], 'wait=0');
      const other = await request(idleApp)
        .post('/api/transactions')
        .set('Prefer', 'respond-async')
        .send(body());
      assert.equal(other.status, 202);
      assert.equal(other.headers['preference-applied'], undefined);
    });

    it('a bad wait is a 400 naming header.Prefer, and starts nothing', async function () {
      for (const prefer of ['wait=abc', 'wait=-1', `wait=${MAX_WAIT + 1}`, 'wait=', 'wait=1.5', 'wait']) {
        const b = body();
        const res = await request(app).post('/api/transactions').set('Prefer', prefer).send(b);
        assertProblem(res, 'header.Prefer');
        assert.equal((await request(app).get(`/api/transactions/${b.id}`)).status, 404, prefer);
      }
      // A quoted value is a valid RFC 7240 word; the first of two waits counts.
      const quoted = await request(idleApp)
        .post('/api/transactions')
        .set('Prefer', 'wait="0", wait=x')
        .send(body());
      assert.equal(quoted.status, 202);
      assert.equal(quoted.headers['preference-applied'], 'wait=0');
    });
  });

  describe('GET /api/transactions/{id}?wait=N', function () {
    it('answers when the status changes', async function () {
      mock.faults.update({ outage: true });
      const b = body();
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
      await eventually(async () => {
        const r = await request(app).get(`/api/transactions/${b.id}`);
        assert.equal(r.body.status, 'processing');
      });
      const waiting = timed(() => request(app).get(`/api/transactions/${b.id}?wait=${MAX_WAIT}`));
      await sleep(500);
      mock.faults.update({ outage: false });
      const { value: res, ms } = await waiting;
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'completed');
      assert.ok(ms >= 400 && ms < (MAX_WAIT - 2) * 1000, `answered after ${ms} ms`);
    });

    it('answers after N s when nothing changes, and at once for a final one', async function () {
      const b = body();
      assert.equal((await request(idleApp).post('/api/transactions').send(b)).status, 202);
      const slow = await timed(() => request(idleApp).get(`/api/transactions/${b.id}?wait=1`));
      assert.equal(slow.value.status, 200);
      assert.equal(slow.value.body.status, 'pending');
      assert.ok(slow.ms >= 900 && slow.ms < 5_000, `answered after ${slow.ms} ms`);

      const done = body();
      assert.equal(
        (await request(app).post('/api/transactions').set('Prefer', 'wait=8').send(done)).status,
        201,
      );
      const fast = await timed(() => request(app).get(`/api/transactions/${done.id}?wait=${MAX_WAIT}`));
      assert.equal(fast.value.body.status, 'completed');
      assert.ok(fast.ms < 1_500, `answered after ${fast.ms} ms`);
    });

    it('a bad wait is a 400 naming query.wait; other parameters are still ignored', async function () {
      for (const wait of ['abc', '-1', String(MAX_WAIT + 1), '', '1e1']) {
        assertProblem(await request(app).get(`/api/transactions/any?wait=${wait}`), 'query.wait');
      }
      const b = body();
      assert.equal((await request(idleApp).post('/api/transactions').send(b)).status, 202);
      assert.equal((await request(idleApp).get(`/api/transactions/${b.id}?foo=bar`)).status, 200);
    });
  });

  describe('a client that hangs up', function () {
    // The API's Temporal calls go through a gRPC proxy that sees each call end, as the server does.
    let proxy: GrpcHeaderProxy;
    let hangApp: Express;
    let server: Server;
    let port: number;
    const longPolls = () => proxy.openCalls().filter((p) => p.endsWith('/GetWorkflowExecutionHistory'));

    before(async function () {
      proxy = await startGrpcHeaderProxy(testTemporalAddress());
      const connection = await Connection.connect({ address: proxy.address });
      const proxied = new Client({ connection, namespace: 'default' });
      hangApp = testApp(proxied, uniqueTaskQueue('wait-hang'), fastPolicy(), { maxWaitSeconds: MAX_WAIT });
      server = hangApp.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      port = (server.address() as AddressInfo).port;
    });

    after(async function () {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await proxy?.close();
    });

    /** Sends a request that would wait (no worker: nothing changes); returns it, to destroy. */
    function waitingRequest(method: 'GET' | 'POST', path: string, payload?: object) {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', prefer: `wait=${MAX_WAIT}` } : {},
      });
      req.on('error', () => undefined); // destroyed on purpose
      req.end(payload ? JSON.stringify(payload) : undefined);
      return req;
    }

    it('stops every wait at once: its gRPC long-poll is cancelled, the gauge returns to 0, counted client_gone', async function () {
      const inFlight = () => appParts(hangApp).metrics.waitsInProgress();
      const gone = (kind: string) =>
        metric(hangApp, `txflow_api_waits_total{kind="${kind}",outcome="client_gone"}`);
      const reads = [body(), body()];
      for (const b of reads) {
        assert.equal((await request(hangApp).post('/api/transactions').send(b)).status, 202);
      }
      const requests = [
        waitingRequest('POST', '/api/transactions', body()),
        waitingRequest('POST', '/api/transactions', body()),
        waitingRequest('POST', '/api/transactions', body()),
        ...reads.map((b) => waitingRequest('GET', `/api/transactions/${b.id}?wait=${MAX_WAIT}`)),
      ];
      await eventually(async () => {
        assert.equal(await inFlight(), 5);
        assert.equal(longPolls().length, 5, 'one long-poll call per wait, open at the server');
      }, 10_000);
      const hungUp = Date.now();
      for (const req of requests) req.destroy();
      // Long before the 10 s wait (or its deadline) would end them, the calls are cancelled: the proxy saw each
      // stream closed by the API, and the gauge (held until each call has ended) is back to 0.
      await eventually(async () => {
        assert.deepEqual(longPolls(), []);
        assert.equal(await inFlight(), 0);
      }, 3_000);
      assert.ok(Date.now() - hungUp < 3_000);
      assert.equal(await gone('result'), 3);
      assert.equal(await gone('change'), 2);
    });
  });

  it('the API stopping ends open waits at once: 202 with the current view; later ones do not wait', async function () {
    const stopping = testApp(client, uniqueTaskQueue('wait-stop'), fastPolicy(), {
      maxWaitSeconds: MAX_WAIT,
    });
    const { metrics, waits } = appParts(stopping);
    const pending = timed(() =>
      request(stopping).post('/api/transactions').set('Prefer', `wait=${MAX_WAIT}`).send(body()),
    );
    await eventually(async () => assert.equal(await metrics.waitsInProgress(), 1), 10_000);
    waits.endAll();
    const { value: res, ms } = await pending;
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    assert.equal(res.headers['preference-applied'], `wait=${MAX_WAIT}`);
    assert.ok(ms < (MAX_WAIT - 5) * 1000, `answered after ${ms} ms`);
    const later = await timed(() =>
      request(stopping).post('/api/transactions').set('Prefer', `wait=${MAX_WAIT}`).send(body()),
    );
    assert.equal(later.value.status, 202);
    assert.ok(later.ms < 3_000, `answered after ${later.ms} ms`);
    assert.equal(await metric(stopping, 'txflow_api_waits_total{kind="result",outcome="timeout"}'), 2);
  });

  it('past API_MAX_OPEN_WAITS a request does not wait: 202 at once without Preference-Applied, counted over_capacity', async function () {
    // No worker on this queue: its transactions stay pending, so the one wait allowed stays open.
    const capped = testApp(client, uniqueTaskQueue('wait-cap'), fastPolicy(), {
      maxWaitSeconds: MAX_WAIT,
      maxOpenWaits: 1,
    });
    const { metrics, waits } = appParts(capped);
    const first = body();
    await request(capped).post('/api/transactions').send(first).expect(202);
    const held = request(capped)
      .get(`/api/transactions/${first.id}?wait=${MAX_WAIT}`)
      .then((r) => r);
    await eventually(async () => assert.equal(await metrics.waitsInProgress(), 1), 10_000);

    const post = await timed(() =>
      request(capped).post('/api/transactions').set('Prefer', `wait=${MAX_WAIT}`).send(body()),
    );
    assert.equal(post.value.status, 202, JSON.stringify(post.value.body));
    assert.equal(post.value.headers['preference-applied'], undefined, 'the wait was not applied');
    assert.ok(post.ms < 3_000, `answered after ${post.ms} ms`);
    const get = await timed(() => request(capped).get(`/api/transactions/${first.id}?wait=${MAX_WAIT}`));
    assert.equal(get.value.status, 200);
    assert.equal(get.value.body.status, 'pending');
    assert.ok(get.ms < 3_000, `answered after ${get.ms} ms`);
    assert.equal(await metric(capped, 'txflow_api_waits_total{kind="result",outcome="over_capacity"}'), 1);
    assert.equal(await metric(capped, 'txflow_api_waits_total{kind="change",outcome="over_capacity"}'), 1);
    assert.equal(await metrics.waitsInProgress(), 1, 'the refused requests opened no wait');

    waits.endAll();
    assert.equal((await held).status, 200);
  });

  it('test/tools/wait-latency measures both ways (4 transactions, not a load)', async function () {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const report = await measureWaitLatency({ url, rate: 4, seconds: 1, waitSeconds: 5, pollMs: 100 });
      const { wait, poll } = report.modes;
      assert.deepEqual([wait.transactions, wait.final, wait.errors, wait.fellBack], [2, 2, 0, 0]);
      assert.deepEqual([poll.transactions, poll.final, poll.errors], [2, 2, 0]);
      assert.equal(wait.requestsPerTransaction, 1, 'one request each with Prefer: wait');
      assert.ok(poll.requestsPerTransaction >= 2, 'a POST and at least one GET each when polling');
      assert.ok(wait.p50Ms > 0 && wait.p50Ms <= wait.maxMs && poll.p50Ms > 0, JSON.stringify(report.modes));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe('documented', function () {
    it('the OpenAPI document has Prefer, Preference-Applied, 201 and ?wait', async function () {
      const doc = (await request(app).get('/openapi.json')).body;
      const submit = doc.paths['/api/transactions'].post;
      const names = (op: { parameters: { name: string; in: string }[] }) =>
        op.parameters.map((p) => `${p.in}.${p.name}`);
      assert.ok(names(submit).includes('header.Prefer'), JSON.stringify(names(submit)));
      for (const status of ['200', '201', '202']) {
        assert.ok(submit.responses[status].headers['Preference-Applied'], status);
      }
      const read = doc.paths['/api/transactions/{id}'].get;
      assert.ok(names(read).includes('query.wait'), JSON.stringify(names(read)));
      const text = await appParts(app).metrics.registry.metrics();
      assert.match(text, /txflow_api_waits_in_flight\{kind="result"\} 0/);
    });
  });
});
