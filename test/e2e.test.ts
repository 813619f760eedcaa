import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import { startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import { testApp } from './support/api';
import { eventually } from './support/eventually';

const TRANSACTIONS = 300;
const CONCURRENCY = 32;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T);
      }
    }),
  );
  return results;
}

describe('end to end: API + worker + mock with 20% pre-write and 10% post-write failures', function () {
  this.timeout(240_000);
  let mock: RunningMock;
  let worker: RunningWorker;
  let server: Server;
  let base: string;

  before(async function () {
    mock = await startMock({
      preWriteFailureRate: 0.2,
      postWriteFailureRate: 0.1,
      postWriteMode: 'mixed',
      postWriteHangMs: 1_500,
      postLatencyMs: { min: 0, max: 20 },
      seed: 20261123,
    });
    const taskQueue = uniqueTaskQueue('e2e');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 1_000 });
    const app = testApp(await testClient(), taskQueue);
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    server?.closeAllConnections();
    server?.close();
    await worker?.stop();
    await mock?.stop();
  });

  it(`${TRANSACTIONS} transactions, a third submitted twice concurrently: all completed, each posted once`, async function () {
    const run = Date.now().toString(36);
    const ids = Array.from({ length: TRANSACTIONS }, (_, i) => `e2e-${run}-${i}`);
    // Every third transaction is sent twice at the same moment, half of those through the webhook dialect.
    const submissions = ids.flatMap((id, i) =>
      i % 3 === 0 ? [[id, i, 0] as const, [id, i, 1] as const] : [[id, i, 0] as const],
    );
    // Like a real client: a 503 (Temporal busy past the API's deadline) is retried with the same ID and body.
    const statuses = await pool(submissions, CONCURRENCY, async ([id, i, copy]) => {
      const amount = `${(i % 97) + 1}.${String(i % 100).padStart(2, '0')}`;
      const webhook = i % 6 === 0 && copy === 1;
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(webhook ? `${base}/v1/webhooks/transactions` : `${base}/api/transactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(
            webhook
              ? {
                  transaction_id: id,
                  source_account: 'acc_a',
                  destination_account: 'acc_b',
                  amount,
                  currency: 'EUR',
                }
              : { id, source_account: 'acc_a', destination_account: 'acc_b', amount, currency: 'EUR' },
          ),
        });
        await res.arrayBuffer();
        if (res.status !== 503 || attempt === 5) return res.status;
        await sleep(200 * attempt);
      }
    });
    assert.deepEqual(
      statuses.filter((s) => s !== 200 && s !== 202),
      [],
      'every submission is eventually answered 202 (new, or a webhook repeat) or 200 (repeat)',
    );

    const pending = new Set(ids);
    await eventually(
      async () => {
        await pool([...pending], CONCURRENCY, async (id) => {
          const res = await fetch(`${base}/api/transactions/${id}`);
          const body = (await res.json()) as { status: string };
          assert.notEqual(body.status, 'failed', `${id} failed`);
          if (body.status === 'completed') pending.delete(id);
        });
        assert.equal(pending.size, 0, `${pending.size} not completed yet`);
      },
      180_000,
      500,
    );

    const stats = mock.store.stats();
    assert.equal(stats.distinctIds, TRANSACTIONS);
    assert.deepEqual(stats.duplicates, [], 'no transaction stored twice');
    for (const id of ids) assert.equal(mock.store.copies(id), 1, id);
    assert.ok(
      stats.faults.preWrite > 0 && stats.faults.postWrite > 0,
      `faults injected: ${JSON.stringify(stats.faults)}`,
    );
  });
});
