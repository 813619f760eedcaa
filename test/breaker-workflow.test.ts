// The circuit breaker and the phase attributes end to end: a real worker with its breaker, the real workflow on
// the test server, the mock over HTTP, and the real API (supertest) for what a client and an operator see.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { Express } from 'express';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { TX_ATTEMPTS, TX_PHASE } from '../src/domain/search-attributes';
import type { BreakerOptions } from '../src/posting/circuit-breaker';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { uniqueTaskQueue } from './support/temporal';
import { useWorkflowEnv } from './support/workflow-env';
import { fastPolicy } from './support/harness';

const BREAKER: BreakerOptions = {
  failureRatio: 0.5,
  windowMs: 5_000,
  minCalls: 3,
  probeIntervalMs: 300,
  maxPauseMs: 1_500,
};

let n = 0;
const body = () => ({
  id: `brk-${Date.now()}-${(n += 1)}`,
  amount: '12.30',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
});

describe('circuit breaker in the workflow (real server, worker, mock and API)', function () {
  this.timeout(60_000);
  const env = useWorkflowEnv({
    queuePrefix: 'breaker',
    worker: {
      postingTimeoutMs: 2_000,
      breaker: BREAKER,
      // True of this mock without post-write failures: its pre-write failures (500, 502, 503) write nothing.
      notProcessedStatuses: [500, 502, 503],
    },
  });
  afterEach(function () {
    env.mock.faults.update({
      outage: false,
      preWriteFailureRate: 0,
      getFailureRate: 0,
      postLatencyMs: { min: 0, max: 0 },
    });
  });

  const app = (deadlineMs = 60_000): Express =>
    testApp(env.client, env.taskQueue, fastPolicy({ deadlineMs }), {}, {}, { queryDeadlineMs: 2_000 });
  const attributes = async (id: string) =>
    (await env.client.workflow.getHandle(id).describe()).typedSearchAttributes;
  /** The run's activities and timers in order, for failure messages. */
  const trail = async (id: string): Promise<string> => {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? [])
      .map(
        (e) =>
          e.activityTaskScheduledEventAttributes?.activityId ??
          (e.activityTaskFailedEventAttributes &&
            `failed(${e.activityTaskFailedEventAttributes.failure?.cause?.applicationFailureInfo?.type ?? e.activityTaskFailedEventAttributes.failure?.message})`) ??
          (e.activityTaskTimedOutEventAttributes &&
            `timed out(${JSON.stringify(e.activityTaskTimedOutEventAttributes.failure?.cause?.message)} retry ${e.activityTaskTimedOutEventAttributes.retryState})`) ??
          (e.timerStartedEventAttributes && 'timer'),
      )
      .filter(Boolean)
      .join(' ');
  };
  const memo = async (id: string) => (await env.client.workflow.getHandle(id).describe()).memo ?? {};

  it('the start sets TxPhase checking and TxAttempts 0 (no worker on that queue yet)', async function () {
    const idle = testApp(
      env.client,
      uniqueTaskQueue('breaker-idle'),
      fastPolicy(),
      {},
      {},
      { queryDeadlineMs: 200 },
    );
    const b = body();
    assert.equal((await request(idle).post('/api/transactions').send(b)).status, 202);
    const sa = await attributes(b.id);
    assert.equal(sa.get(TX_PHASE), 'checking');
    assert.equal(sa.get(TX_ATTEMPTS), 0);
    await env.client.workflow.getHandle(b.id).terminate('test over');
  });

  it('TxPhase posting with its attempts while a POST is in flight, done with the total after', async function () {
    const api = app();
    env.mock.faults.update({ postLatencyMs: { min: 1_500, max: 1_500 } });
    const b = body();
    assert.equal((await request(api).post('/api/transactions').send(b)).status, 202);
    await eventually(async () => {
      const sa = await attributes(b.id);
      assert.equal(sa.get(TX_PHASE), 'posting');
      assert.equal(sa.get(TX_ATTEMPTS), 1, 'the check');
    });
    // What an operator types in the Web UI finds it (visibility is eventually consistent).
    await eventually(async () => {
      const found: string[] = [];
      const query = `TxPhase = "posting" AND TxAttempts >= 1 AND WorkflowId = "${b.id}"`;
      for await (const wf of env.client.workflow.list({ query })) found.push(wf.workflowId);
      assert.deepEqual(found, [b.id]);
    });
    await env.client.workflow.getHandle(b.id).result();
    const sa = await attributes(b.id);
    assert.equal(sa.get(TX_PHASE), 'done');
    assert.equal(sa.get(TX_ATTEMPTS), 2);
  });

  it('an outage pauses transactions (GET shows it), attempts stay put, and all complete once each after it', async function () {
    const api = app();
    env.mock.faults.update({ outage: true });
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const b = body();
      assert.equal((await request(api).post('/api/transactions').send(b)).status, 202);
      ids.push(b.id);
    }
    const id = ids[0] as string;
    const view = await eventually(async () => {
      const res = await request(api).get(`/api/transactions/${id}`);
      assert.equal(res.body.phase, 'paused', JSON.stringify(res.body));
      return res.body as { status: string; attempts: number; pausedReason: string; lastError: string };
    }, 15_000);
    assert.equal(view.status, 'processing');
    assert.equal(view.pausedReason, 'downstream unhealthy');
    assert.match(view.lastError, /503/);
    const v1 = (await request(api).get(`/v1/transactions/${id}`)).body as Record<string, unknown>;
    assert.equal(v1.status, 'PROCESSING');
    assert.equal(v1.paused_reason, 'downstream unhealthy');
    await eventually(async () => assert.equal((await attributes(id)).get(TX_PHASE), 'paused'));
    // The run's page in the Web UI (its current details, read through the metadata query) says why it waits.
    const details =
      (await env.client.workflow.getHandle(id).query(workflowMetadataQuery)).currentDetails ?? '';
    assert.match(details, /phase: paused/);
    assert.match(details, /paused: downstream unhealthy; next try in [\d.]+ s/);
    const pausedMemo = await memo(id);
    assert.match(String(pausedMemo.lastError), /503/);
    assert.equal(pausedMemo.lastErrorKind, 'unavailable');
    // Paused: the downstream sees only the breaker's probes, and the attempts do not grow.
    const before = env.mock.store.stats();
    await sleep(2_000);
    const after = env.mock.store.stats();
    const calls = after.requests.get + after.requests.post - before.requests.get - before.requests.post;
    assert.ok(calls <= 8, `${calls} calls in 2 s while paused: the probes only (one per 300 ms)`);
    const later = (await request(api).get(`/api/transactions/${id}`)).body as { attempts: number };
    assert.equal(later.attempts, view.attempts, 'no attempt while paused');

    env.mock.faults.update({ outage: false });
    for (const txId of ids) {
      const state = await env.client.workflow.getHandle(txId).result();
      assert.equal(state.status, 'completed');
      assert.equal(env.mock.store.copies(txId), 1, `${txId} stored once`);
      assert.equal((await attributes(txId)).get(TX_PHASE), 'done');
    }
  });

  it('past the deadline while paused after POSTs: fails only after the final check, once the downstream answers', async function () {
    // POSTs answer 5xx (nothing written); once the check has passed, GETs (looks, probes) fail too: the
    // breaker opens and stays open past the transaction's 4 s deadline.
    const api = app(4_000);
    env.mock.faults.update({ preWriteFailureRate: 1 });
    const b = body();
    assert.equal((await request(api).post('/api/transactions').send(b)).status, 202);
    await eventually(async () => assert.equal((await attributes(b.id)).get(TX_PHASE), 'posting'), 10_000, 20);
    env.mock.faults.update({ getFailureRate: 1 });
    await eventually(async () => {
      const res = await request(api).get(`/api/transactions/${b.id}`);
      assert.equal(res.body.phase, 'paused', `${JSON.stringify(res.body)}\n${await trail(b.id)}`);
    }, 15_000);
    await sleep(5_000);
    const during = (await request(api).get(`/api/transactions/${b.id}`)).body as Record<string, unknown>;
    assert.equal(
      during.status,
      'processing',
      `no failure without the final check: ${JSON.stringify(during)}\n${await trail(b.id)}`,
    );
    env.mock.faults.update({ getFailureRate: 0 });
    const outcome = await env.client.workflow
      .getHandle(b.id)
      .result()
      .then(
        () => 'completed',
        () => 'failed',
      );
    assert.equal(outcome, 'failed');
    assert.equal(env.mock.store.copies(b.id), 0);
    // The final check is the last activity: a look after the pauses.
    const history = await env.client.workflow.getHandle(b.id).fetchHistory();
    const scheduled = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityId)
      .filter((x): x is string => typeof x === 'string');
    assert.match(scheduled.at(-1) ?? '', /^look-/, scheduled.join(','));
    const final = await memo(b.id);
    assert.equal(final.lastErrorKind, 'deadline');
    const sa = await attributes(b.id);
    assert.equal(sa.get(TX_PHASE), 'done');
    const res = await request(api).get(`/api/transactions/${b.id}`);
    assert.equal(res.body.status, 'failed');
    assert.equal(res.body.pausedReason, null);
  });
});
