import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { visibilityQuery } from '../src/api/transactions/list-query';
import { errorMatches } from '../src/api/transactions/redrive';
import type { Transaction } from '../src/domain/transaction';
import { testApp } from './support/api';
import { maxInWindow } from './support/counting-mock';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { startWithRecord } from './support/ops-runs';
import { runProcess } from './support/run-process';
import { uniqueTaskQueue } from './support/temporal';

const RETRY = '/api/transactions/retry';
const OUTAGE = 200; // failed during the outage, last error: the deadline
const REJECTED = 20; // refused by the downstream (a lowercase currency it does not take), last error: rejected
const REDRIVE_RATE = 50;

const fields = (res: request.Response) => (res.body.errors as { field: string }[]).map((e) => e.field);

describe('bulk redrive after an outage (real Temporal, worker, mock over HTTP)', function () {
  this.timeout(240_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker;
  let taskQueue: string;
  let app: Express;
  const outage: Transaction[] = [];
  /** Between the refused runs and the outage's: `from` this selects the outage's alone. */
  let outageFrom = '';
  const rejected: Transaction[] = [];

  const count = async (status: 'failed' | 'completed') =>
    (await client.workflow.count(visibilityQuery(taskQueue, { status }))).count;

  before(async function () {
    client = await testClient();
    mock = await startMock();
    taskQueue = uniqueTaskQueue('redrive');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 500 });
    // Generous Temporal call limits: on a loaded machine a 2 s limit would turn retries into `outcome_unknown`.
    app = testApp(
      client,
      taskQueue,
      fastPolicy(),
      { redriveMaxPerSecond: REDRIVE_RATE },
      {},
      { rpcTimeoutMs: 15_000 },
    );
    // Runs started as the API starts them; their last errors are the workflow's own (its memo). First the
    // refused ones (the downstream answers 400 to a currency it does not take), then the outage: every call
    // answers 503 and, with a 1.5 s deadline, each transaction fails quickly.
    const short = fastPolicy({ deadlineMs: 1_500 });
    // The refused ones fail on their first POST's 400; a deadline long enough that a worker still warming up
    // (its first tasks late on a loaded machine) cannot make one of them a deadline failure instead.
    const refusedPolicy = fastPolicy({ deadlineMs: 60_000 });
    for (let i = 0; i < REJECTED; i++) {
      const tx = newTransaction({ amount: `${i + 1}.50`, currency: 'inr' });
      rejected.push(tx);
      await startWithRecord(client, taskQueue, refusedPolicy, tx, {});
    }
    await eventually(async () => assert.equal(await count('failed'), REJECTED), 60_000, 500);
    mock.faults.update({ outage: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    outageFrom = new Date().toISOString();
    for (let i = 0; i < OUTAGE; i++) {
      const tx = newTransaction({ amount: `${(i + 1) * 3}.25`, currency: 'EUR' });
      outage.push(tx);
      await startWithRecord(client, taskQueue, short, tx, {});
    }
    await eventually(async () => assert.equal(await count('failed'), OUTAGE + REJECTED), 180_000, 1_000);
    mock.faults.update({ outage: false });
  });

  after(async function () {
    await worker?.stop();
    await mock?.stop();
  });

  it('refuses a bad filter with a 400 naming the field, and starts nothing', async function () {
    const cases: [Record<string, unknown>, string][] = [
      [{ status: 'completed' }, 'body.status'],
      [{ error_kind: 'bogus' }, 'body.error_kind'],
      [{ limit: 0 }, 'body.limit'],
      [{ limit: 10_001 }, 'body.limit'],
      [{ from: 'yesterday' }, 'body.from'],
      [{ from: '2026-12-02', to: '2026-12-01' }, 'body.to'],
      [{ error: '' }, 'body.error'],
      [{ dry_run: 'yes' }, 'body.dry_run'],
    ];
    for (const [body, field] of cases) {
      const res = await request(app).post(RETRY).send(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
      assert.ok(fields(res).includes(field), `${field} in ${JSON.stringify(res.body.errors)}`);
    }
    const unknown = await request(app).post(RETRY).send({ kind: 'deadline' });
    assert.equal(unknown.status, 400);
    assert.equal(await count('completed'), 0);
  });

  it('a dry run counts and lists the matches by error kind and text, and starts nothing', async function () {
    // Which error the outage left last (the deadline, or the 503 of the call it stopped) is the run's: the
    // dry run by kind matches exactly the runs whose record says that kind.
    const listed = await request(app).get('/api/transactions').query({ status: 'failed', limit: '500' });
    const kindOf = new Map<string, string>(
      (listed.body.items as { transactionId: string; lastErrorKind: string }[]).map((i) => [
        i.transactionId,
        i.lastErrorKind,
      ]),
    );
    assert.ok(outage.every((t) => kindOf.get(t.id) !== 'rejected' && kindOf.get(t.id)));
    const deadline = outage.filter((t) => kindOf.get(t.id) === 'deadline').map((t) => t.id);
    const byKind = await request(app).post(RETRY).send({ error_kind: 'deadline', dry_run: true });
    assert.equal(byKind.status, 200, JSON.stringify(byKind.body));
    assert.equal(byKind.body.matched, deadline.length);
    assert.equal(byKind.body.retried, 0);
    assert.deepEqual(new Set(byKind.body.ids), new Set(deadline));
    const byRejected = await request(app).post(RETRY).send({ error_kind: 'rejected', dry_run: true });
    assert.deepEqual(new Set(byRejected.body.ids), new Set(rejected.map((t) => t.id)));
    const byText = await request(app).post(RETRY).send({ error: 'CURRENCY: must', dry_run: true });
    assert.equal(byText.body.matched, REJECTED);
    const limited = await request(app).post(RETRY).send({ dry_run: true, limit: 7 });
    assert.deepEqual([limited.body.matched, limited.body.more_may_match], [7, true]);
    const future = await request(app).post(RETRY).send({ dry_run: true, from: '2099-01-01' });
    assert.equal(future.body.matched, 0);
    assert.equal(await count('completed'), 0);
  });

  it('retries what matches at the capped rate; a repeat retries nothing; each is posted exactly once', async function () {
    const startedAt = new Date();
    const first = await request(app).post(RETRY).send({ from: outageFrom });
    assert.equal(first.status, 200, JSON.stringify(first.body).slice(0, 500));
    assert.deepEqual(
      [first.body.matched, first.body.retried, first.body.skipped],
      [OUTAGE, OUTAGE, 0],
      JSON.stringify(first.body.skipped_items),
    );

    // Safe to repeat: what was retried no longer matches, or (visibility catching up) the per-ID rules skip it.
    const again = await request(app).post(RETRY).send({ from: outageFrom });
    assert.equal(again.body.retried, 0, JSON.stringify(again.body.skipped_by_reason));
    assert.equal(again.body.skipped, again.body.matched);
    for (const reason of Object.keys(again.body.skipped_by_reason)) {
      assert.ok(['running', 'completed'].includes(reason), reason);
    }

    await eventually(async () => assert.equal(await count('completed'), OUTAGE), 120_000, 1_000);
    for (const tx of outage) {
      assert.equal(mock.store.copies(tx.id), 1, tx.id);
      assert.equal(mock.store.first(tx.id)?.amount, tx.amount);
    }
    for (const tx of rejected) assert.equal(mock.store.copies(tx.id), 0, tx.id);

    // The new runs started at most REDRIVE_MAX_PER_SECOND per second.
    const starts: number[] = [];
    const query = `${visibilityQuery(taskQueue, {})} AND StartTime >= "${startedAt.toISOString()}"`;
    for await (const run of client.workflow.list({ query })) starts.push(run.startTime.getTime());
    assert.equal(starts.length, OUTAGE);
    const most = maxInWindow(starts, 1_000);
    process.stdout.write(
      `      ${OUTAGE} retried, most new runs in any 1 s: ${most} (cap ${REDRIVE_RATE})\n`,
    );
    // Paced by the API's sends; the server's start times bunch a little on a loaded machine.
    assert.ok(most <= Math.ceil(REDRIVE_RATE * 1.2), `${most} runs started in one second`);

    const metrics = await request(app).get('/metrics');
    assert.match(
      metrics.text,
      new RegExp(`^txflow_redrive_transactions_total\\{outcome="retried"\\} ${OUTAGE}$`, 'm'),
    );
    assert.match(
      metrics.text,
      new RegExp(`^txflow_api_workflow_starts_total\\{eager="false"\\} ${OUTAGE}$`, 'm'),
    );
  });

  it('npm run redrive: --help, a dry run, a bad flag named, then the redrive with its counts', async function () {
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cli = (...args: string[]) =>
      runProcess(process.execPath, ['dist/tools/ops/redrive-main.js', ...args, '--api-url', url], {}, 60_000);
    try {
      const help = await runProcess(
        process.execPath,
        ['dist/tools/ops/redrive-main.js', '--help'],
        {},
        10_000,
      );
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--error-kind/);
      const bad = await cli('--error-kind', 'bogus');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /body\.error_kind/);
      const unknownFlag = await cli('--kind', 'x');
      assert.equal(unknownFlag.code, 2);
      const dry = await cli('--error-kind', 'rejected', '--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stderr, new RegExp(`${REJECTED} failed transaction\\(s\\) match`));
      const run = await cli('--error-kind', 'rejected');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`matched ${REJECTED}, retried ${REJECTED}, skipped 0`));
      // The downstream still refuses them: each retried run fails again, nothing of theirs is stored.
      await eventually(
        async () => {
          for (const t of rejected) {
            assert.equal((await client.workflow.getHandle(t.id).describe()).status.name, 'FAILED', t.id);
          }
        },
        60_000,
        500,
      );
      assert.ok(rejected.every((t) => mock.store.copies(t.id) === 0));
      assert.equal(mock.store.stats().duplicates.length, 0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('errorMatches: kind exactly, text in any case; without an error filter every run matches (pure)', function () {
    const run = {
      phase: null,
      attempts: null,
      lastError: 'POST: 503 Service Unavailable',
      lastErrorKind: 'not_written',
    };
    assert.ok(errorMatches(run, {}));
    assert.ok(errorMatches(run, { error: 'service unavailable', error_kind: 'not_written' }));
    assert.ok(!errorMatches(run, { error_kind: 'deadline' }));
    assert.ok(!errorMatches(run, { error: '504' }));
    assert.ok(!errorMatches({ ...run, lastError: null, lastErrorKind: null }, { error: 'x' }));
  });
});
