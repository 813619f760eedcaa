// Health is open (load balancers, probes), so when API keys are configured a caller without a valid key sees
// the status and the counts only: no transaction IDs, no downstream URL, answer text or error messages. With a
// valid key, or with no keys configured, it sees everything.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { DownstreamProbe } from '../src/api/health/downstream-probe';
import { freePort } from '../tools/shared/ports';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';

const KEY = 'health-key-0123456789abcdef';

function keyedApp(client: Client, taskQueue: string, probe?: DownstreamProbe): Express {
  const policy = fastPolicy({ deadlineMs: 120_000 });
  return testApp(
    client,
    taskQueue,
    policy,
    { apiKeys: [KEY] },
    { probe, stalledAfterMs: 1_000, sampleIntervalMs: 500 },
  );
}

/** Both health routes' bodies, without a key and with one. */
async function bothWays(app: Express) {
  const get = (path: string, key?: string) =>
    request(app)
      .get(path)
      .set(key ? { Authorization: `Bearer ${key}` } : {});
  const [api, root, apiKeyed, rootKeyed] = await Promise.all([
    get('/api/health'),
    get('/').set('Accept', 'application/json'),
    get('/api/health', KEY),
    get('/', KEY).set('Accept', 'application/json'),
  ]);
  return { api, root, apiKeyed, rootKeyed };
}

describe('health without an API key shows counts only', function () {
  this.timeout(60_000);

  it('Temporal unreachable: no error name without a key, the same status and figures', async function () {
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const { api, root, apiKeyed } = await bothWays(keyedApp(client, 'unreachable'));
    assert.equal(api.status, 503, 'open: no 401 without a key');
    assert.equal(apiKeyed.body.temporal.error, 'TemporalUnavailableError');
    assert.deepEqual(api.body.temporal, { reachable: false, latency_ms: null });
    assert.deepEqual(root.body.temporal, { reachable: false, latency_ms: null });
    for (const key of ['status', 'queue_depth', 'error_rate', 'task_queue', 'errors']) {
      assert.deepEqual(api.body[key], apiKeyed.body[key], key);
    }
  });

  describe('with a worker and the mock', function () {
    let mock: RunningMock;
    let worker: RunningWorker;
    let taskQueue: string;

    before(async function () {
      mock = await startMock();
      taskQueue = uniqueTaskQueue('health-detail');
      worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 1_000 });
    });

    after(async function () {
      mock?.faults.update({ outage: false });
      await worker?.stop();
      await mock?.stop();
    });

    it('a stalled transaction: its ID and last failure only with a key; the count for everyone', async function () {
      const probe = new DownstreamProbe({ baseUrl: mock.url, intervalMs: 500, timeoutMs: 1_000 });
      const app = keyedApp(await testClient(), taskQueue, probe);
      mock.faults.update({ outage: true });
      const id = `health-detail-${randomUUID()}`;
      const submit = await request(app)
        .post('/api/transactions')
        .set('Authorization', `Bearer ${KEY}`)
        .send({ id, amount: '5.00', currency: 'EUR', source_account: 'acc_a', destination_account: 'acc_b' });
      assert.equal(submit.status, 202);
      const seen = await eventually(async () => {
        const ways = await bothWays(app);
        const sample = ways.apiKeyed.body.downstream.stalled.sample as { transaction_id: string }[];
        assert.ok(
          sample.some((s) => s.transaction_id === id),
          JSON.stringify(ways.apiKeyed.body.downstream),
        );
        return ways;
      }, 30_000);
      mock.faults.update({ outage: false });
      assert.equal(seen.rootKeyed.body.downstream.stalled.sample[0].transaction_id, id);
      for (const res of [seen.api, seen.root]) {
        assert.equal(res.status, 200);
        const text = JSON.stringify(res.body);
        assert.ok(!text.includes(id), `the transaction ID is shown without a key: ${text}`);
        assert.ok(!text.includes('answered'), `the downstream's answer is shown without a key: ${text}`);
        assert.ok(!text.includes(mock.url), `the downstream's URL is shown without a key: ${text}`);
        assert.ok(res.body.downstream.stalled.count >= 1, 'the count is shown');
        assert.equal(res.body.downstream.stalled.sample, undefined);
      }
      assert.equal(seen.api.body.status, 'DEGRADED');
      assert.equal(seen.api.body.downstream.probe.ok, true);
      await probe.close();
    });

    it('a downstream that refuses its health probe: the error only with a key', async function () {
      const probe = new DownstreamProbe({
        baseUrl: `http://127.0.0.1:${await freePort()}`,
        intervalMs: 500,
        timeoutMs: 1_000,
      });
      const { api, apiKeyed } = await bothWays(keyedApp(await testClient(), taskQueue, probe));
      assert.equal(apiKeyed.body.downstream.probe.error, 'ECONNREFUSED');
      assert.equal(api.body.downstream.status, 'down');
      assert.equal(api.body.downstream.probe.ok, false);
      assert.equal(api.body.downstream.probe.error, undefined);
      assert.equal(api.body.downstream.probe.url, undefined);
      await probe.close();
    });

    it('without keys configured, everyone sees the detail', async function () {
      const probe = new DownstreamProbe({
        baseUrl: `http://127.0.0.1:${await freePort()}`,
        intervalMs: 500,
        timeoutMs: 1_000,
      });
      const open = testApp(await testClient(), taskQueue, fastPolicy(), {}, { probe });
      const res = await request(open).get('/api/health');
      assert.equal(res.body.downstream.probe.error, 'ECONNREFUSED');
      await probe.close();
    });
  });
});
