import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { BreakerOptions } from '../src/posting/circuit-breaker';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { useWorkflowEnv } from './support/workflow-env';
import { fastPolicy } from './support/harness';

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
  const env = useWorkflowEnv({
    queuePrefix: 'breaker-post-outage',
    worker: {
      postingTimeoutMs: 2_000,
      breaker: BREAKER,
      // The mock's pre-write failures (500, 502, 503) write nothing.
      notProcessedStatuses: [500, 502, 503],
    },
  });

  it('posting pauses: POSTs fall to at most one per probe interval', async function () {
    const api = testApp(
      env.client,
      env.taskQueue,
      fastPolicy({ deadlineMs: 60_000 }),
      {},
      {},
      { queryDeadlineMs: 2_000 },
    );
    env.mock.faults.update({ preWriteFailureRate: 1 });
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
    const before = env.mock.store.stats().requests;
    await sleep(MEASURE_MS);
    const after = env.mock.store.stats().requests;
    const posts = after.post - before.post;
    const gets = after.get - before.get;
    process.stdout.write(
      `      in ${MEASURE_MS / 1000} s of a POST-only outage: ${posts} POSTs, ${gets} GETs\n`,
    );

    env.mock.faults.update({ preWriteFailureRate: 0 });
    await eventually(
      async () => {
        for (const id of ids) assert.equal(env.mock.store.copies(id), 1, id);
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
