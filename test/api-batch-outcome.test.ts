// A batch whose starts get no answer (Temporal unreachable mid-batch): the items in flight are `unknown`, the
// rest `skipped`, and the answer still comes, in about one RPC timeout. Modelled as in start-outcome.test.ts: a
// TCP proxy between the API's client and the test server holds the server's answers while the starts reach it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { BATCH_CONCURRENCY } from '../src/api/transactions/batch-routes';
import { testApp } from './support/api';
import { testClient } from './support/harness';
import { startPausableProxy, type PausableProxy } from './support/tcp-proxy';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

interface Result {
  id: string;
  status: string;
  location?: string;
}

describe('a batch whose starts get no answer', function () {
  this.timeout(120_000);
  let proxy: PausableProxy;
  let connection: Connection;
  let app: Express;
  const ids: string[] = [];

  before(async function () {
    proxy = await startPausableProxy(testTemporalAddress());
    connection = await Connection.connect({ address: proxy.address });
    const client = new Client({ connection, namespace: 'default' });
    app = testApp(client, uniqueTaskQueue('batch-outcome'), undefined, {}, {}, { rpcTimeoutMs: 1_000 });
  });

  after(async function () {
    proxy?.resume();
    const client = await testClient();
    for (const id of ids) {
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
    await connection?.close();
    await proxy?.close();
  });

  it('answers unknown for the starts in flight, skipped for the rest; the resent batch settles each by its ID', async function () {
    const items = Array.from({ length: BATCH_CONCURRENCY + 8 }, () => ({
      id: `batch-outcome-${randomUUID()}`,
      amount: '12.34',
      currency: 'EUR',
    }));
    ids.push(...items.map((b) => b.id));
    proxy.pauseAnswers();
    const started = Date.now();
    const res = await request(app).post('/api/transactions/batch').send({ transactions: items });
    const tookMs = Date.now() - started;
    proxy.resume();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const first = res.body.results as Result[];
    const unknown = first.filter((r) => r.status === 'unknown');
    const skipped = first.filter((r) => r.status === 'skipped');
    assert.equal(unknown.length + skipped.length, items.length, JSON.stringify(res.body.summary));
    assert.ok(unknown.length >= 1 && unknown.length <= BATCH_CONCURRENCY, JSON.stringify(res.body.summary));
    assert.ok(skipped.length >= items.length - BATCH_CONCURRENCY, 'none waits out a timeout of its own');
    assert.ok(tookMs < 10_000, `answered in ${tookMs} ms, not one timeout per item`);
    for (const r of unknown) assert.equal(r.location, `/api/transactions/${r.id}`);
    for (const r of skipped) assert.equal(r.location, undefined);

    // The truth behind each answer: an unknown start had reached the server (a duplicate now), a skipped one
    // never left the API (accepted now).
    const again = await request(app).post('/api/transactions/batch').send({ transactions: items });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const expected = first.map((r) => [r.id, r.status === 'unknown' ? 'duplicate' : 'accepted']);
    assert.deepEqual(
      (again.body.results as Result[]).map((r) => [r.id, r.status]),
      expected,
    );
  });
});
