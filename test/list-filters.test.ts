import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { visibilityQuery } from '../src/api/transactions/list-query';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, testClient } from './support/harness';
import { startWithRecord, type OpsRecord } from './support/ops-runs';
import { uniqueTaskQueue } from './support/temporal';

interface Item {
  transactionId: string;
  phase: string | null;
  attempts: number | null;
  lastError: string | null;
  lastErrorKind: string | null;
  pausedReason: string | null;
}

describe('GET /api/transactions: the stuck-transaction filters (real Temporal, no worker)', function () {
  this.timeout(60_000);
  let client: Client;
  let app: Express;
  const ids: Record<string, string> = {};

  // No worker polls this queue: each run stays as started, with the record it was started with.
  const runs: Record<string, OpsRecord> = {
    stuck: {
      phase: 'posting',
      attempts: 7,
      lastError: 'POST /transactions: 503',
      lastErrorKind: 'not_written',
    },
    edge: { phase: 'posting', attempts: 6 },
    few: { phase: 'posting', attempts: 5 },
    checking: { phase: 'checking', attempts: 9, lastError: 'GET timed out', lastErrorKind: 'timeout' },
    paused: { status: 'processing', phase: 'paused', attempts: 3 },
    none: {},
  };

  before(async function () {
    client = await testClient();
    const taskQueue = uniqueTaskQueue('list-filters');
    app = testApp(client, taskQueue);
    for (const [name, record] of Object.entries(runs)) {
      const tx = newTransaction();
      ids[name] = tx.id;
      await startWithRecord(client, taskQueue, fastPolicy(), tx, record);
    }
    await eventually(async () => {
      assert.equal((await client.workflow.count(visibilityQuery(taskQueue, {}))).count, 6);
    });
  });

  const list = async (query: Record<string, string>) => {
    const res = await request(app).get('/api/transactions').query(query);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as Item[];
  };

  it('phase=posting&min_attempts=6 is TxPhase = "posting" AND TxAttempts > 5', async function () {
    const items = await list({ phase: 'posting', min_attempts: '6' });
    assert.deepEqual(new Set(items.map((i) => i.transactionId)), new Set([ids.stuck, ids.edge]));
    // A plain start is `checking` too (the start sets it).
    const byPhase = await list({ phase: 'checking' });
    assert.deepEqual(new Set(byPhase.map((i) => i.transactionId)), new Set([ids.checking, ids.none]));
    const byAttempts = await list({ min_attempts: '8' });
    assert.deepEqual(
      byAttempts.map((i) => i.transactionId),
      [ids.checking],
    );
  });

  it('each listed item carries its phase, attempts and last error; a plain start shows checking and 0', async function () {
    const items = await list({});
    const byId = new Map(items.map((i) => [i.transactionId, i]));
    const stuck = byId.get(ids.stuck ?? '');
    assert.deepEqual(
      [stuck?.phase, stuck?.attempts, stuck?.lastError, stuck?.lastErrorKind],
      ['posting', 7, 'POST /transactions: 503', 'not_written'],
    );
    const none = byId.get(ids.none ?? '');
    assert.deepEqual(
      [none?.phase, none?.attempts, none?.lastError, none?.lastErrorKind],
      ['checking', 0, null, null],
    );
    // Why a paused one is not trying, as GET says it.
    assert.equal(byId.get(ids.paused ?? '')?.pausedReason, 'downstream unhealthy');
    assert.equal(stuck?.pausedReason, null);
  });

  it('refuses a bad phase or min_attempts with a 400 naming the parameter', async function () {
    for (const [query, field] of [
      [{ phase: 'stuck' }, 'query.phase'],
      [{ min_attempts: '-1' }, 'query.min_attempts'],
      [{ min_attempts: '1.5' }, 'query.min_attempts'],
      [{ min_attempts: '99999999' }, 'query.min_attempts'],
    ] as const) {
      const res = await request(app).get('/api/transactions').query(query);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        [field],
      );
    }
  });

  it('a cursor from one phase filter is refused with another', async function () {
    const first = await request(app).get('/api/transactions').query({ phase: 'posting', limit: '1' });
    assert.ok(first.body.next_cursor);
    const other = await request(app)
      .get('/api/transactions')
      .query({ phase: 'checking', limit: '1', cursor: first.body.next_cursor });
    assert.equal(other.status, 400);
    assert.deepEqual(
      other.body.errors.map((e: { field: string }) => e.field),
      ['query.cursor'],
    );
  });
});
