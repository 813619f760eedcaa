import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import request from 'supertest';
import type { BreakerOptions } from '../src/posting/circuit-breaker';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';

const BREAKER: BreakerOptions = {
  failureRatio: 0.5,
  windowMs: 5_000,
  minCalls: 3,
  probeIntervalMs: 300,
  maxPauseMs: 1_500,
};
const TRANSACTIONS = 20;
const SETTLE_MS = 3_000;
const MEASURE_MS = 6_000;

/**
 * An outage of the write path only: every POST answered 5xx, reads fine. The breaker's probe is a GET, so it
 * succeeds; if it closed the breaker, every paused transaction, woken just after that probe, would POST again,
 * and posting would never pause (69-74 POSTs in 6 s here before half-open trials). Bound: at most one POST per
 * probe interval, the half-open state's one trial POST.
 */
describe('circuit breaker in an outage of POSTs only (real server, worker, mock and API)', function () {
  this.timeout(90_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    mock = await startMock();
    taskQueue = uniqueTaskQueue('breaker-post-outage');
    worker = await startWorker({
      taskQueue,
      postingUrl: mock.url,
      postingTimeoutMs: 2_000,
      breaker: BREAKER,
      // The mock's pre-write failures (500, 502, 503) write nothing.
      notProcessedStatuses: [500, 502, 503],
    });
  });
  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  it('posting pauses: POSTs fall to at most one per probe interval', async function () {
    const api = testApp(
      client,
      taskQueue,
      fastPolicy({ deadlineMs: 60_000 }),
      {},
      {},
      { queryDeadlineMs: 2_000 },
    );
    mock.faults.update({ preWriteFailureRate: 1 });
    const ids: string[] = [];
    for (let i = 0; i < TRANSACTIONS; i++) {
      const id = `brk-post-${Date.now()}-${i}`;
      ids.push(id);
      const res = await request(api).post('/api/transactions').send({
        id,
        amount: '12.30',
        currency: 'EUR',
        source_account: 'acc_a',
        destination_account: 'acc_b',
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    await sleep(SETTLE_MS);
    const before = mock.store.stats().requests;
    await sleep(MEASURE_MS);
    const after = mock.store.stats().requests;
    const posts = after.post - before.post;
    const gets = after.get - before.get;
    process.stdout.write(
      `      in ${MEASURE_MS / 1000} s of a POST-only outage: ${posts} POSTs, ${gets} GETs\n`,
    );

    mock.faults.update({ preWriteFailureRate: 0 });
    await eventually(
      async () => {
        for (const id of ids) assert.equal(mock.store.copies(id), 1, id);
      },
      30_000,
      500,
    );
    assert.ok(
      posts <= MEASURE_MS / BREAKER.probeIntervalMs,
      `${posts} POSTs in ${MEASURE_MS} ms with the breaker on (probe every ${BREAKER.probeIntervalMs} ms)`,
    );
  });
});
