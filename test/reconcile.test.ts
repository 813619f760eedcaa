import assert from 'node:assert/strict';

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { fetch } from 'undici';
import {
  compare,
  idsToLookUp,
  type CompareInput,
  type DownstreamRow,
  type TxflowTransaction,
} from '../src/reconcile/compare';
import { differingFields, postedContent, storedContent, type StoredContent } from '../src/posting/content';
import { readOnlyPostingClient } from '../src/reconcile/downstream-side';
import { FlagError, parseFlags, type ReconcileOptions } from '../src/reconcile/options';
import type { ReconcileReport } from '../src/reconcile/report';
import { reconcile } from '../src/reconcile/run';
import { latestRuns, rangeQuery, statusOf } from '../src/reconcile/txflow-side';
import { freePort } from '../tools/shared/ports';
import { txflowCommand } from '../tools/shared/txflow-process';
import { testApp } from './support/api';
import { eventually } from './support/eventually';
import { runProcess, type RunResult } from './support/run-process';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

const range = { from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-24T00:00:00Z') };
const now = new Date('2026-11-24T00:00:00Z');

/** What each transaction of these tests posts, and each row holds unless a test says otherwise. */
const POSTED = { amount: '12.30', currency: 'EUR', sourceAccount: 'acc_a', destinationAccount: 'acc_b' };
const STORED: StoredContent = { ...POSTED };

function tx(
  id: string,
  status: TxflowTransaction['status'],
  startTime = '2026-11-23T12:00:00.000Z',
): TxflowTransaction {
  return { id, status, startTime, closeTime: null, content: POSTED };
}

function input(
  txs: TxflowTransaction[],
  rows: (string | (Partial<DownstreamRow> & { id: string }))[],
  overrides: Partial<CompareInput> = {},
): CompareInput {
  return {
    range,
    now,
    graceMs: 300_000,
    txflow: new Map(txs.map((t) => [t.id, t])),
    downstream: {
      mode: 'list',
      rows: rows.map((r) =>
        typeof r === 'string'
          ? { id: r, createdAt: null, content: STORED }
          : { createdAt: null, content: STORED, ...r },
      ),
      unreadable: 0,
    },
    lookedUp: new Map(),
    ...overrides,
  };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe('reconcile: compare (pure)', function () {
  it('a completed transaction held once downstream is matched: no mismatch', function () {
    const r = compare(input([tx('a', 'completed')], ['a']));
    assert.equal(r.counts.matched, 1);
    assert.equal(r.counts.mismatches, 0);
    assert.deepEqual(
      [r.missingDownstream, r.notCompletedInTxflow, r.duplicates, r.inFlight],
      [[], [], [], []],
    );
  });

  it('completed in txflow with no row downstream is missing downstream', function () {
    const r = compare(input([tx('a', 'completed'), tx('b', 'completed')], ['a']));
    assert.deepEqual(ids(r.missingDownstream), ['b']);
    assert.equal(r.counts.mismatches, 1);
  });

  it('held downstream but failed or cancelled in txflow, or unknown to it, is a mismatch', function () {
    const r = compare(
      input([tx('f', 'failed'), tx('c', 'cancelled')], ['f', 'c', 'ghost'], {
        lookedUp: new Map([['ghost', null]]),
      }),
    );
    assert.deepEqual(
      r.notCompletedInTxflow.map((m) => [m.id, m.txflowStatus, m.copies]),
      [
        ['c', 'cancelled', 1],
        ['f', 'failed', 1],
        ['ghost', 'unknown', 1],
      ],
    );
    assert.equal(r.counts.mismatches, 3);
  });

  it('an open transaction held downstream is in flight within the grace, a mismatch after it', function () {
    const recent = tx('p', 'processing', '2026-11-23T23:58:00.000Z'); // 2 min before now
    const old = tx('q', 'pending', '2026-11-23T23:50:00.000Z'); // 10 min before now
    const r = compare(input([recent, old, tx('open', 'pending')], ['p', 'q']));
    assert.deepEqual(ids(r.inFlight), ['p']);
    assert.deepEqual(
      r.notCompletedInTxflow.map((m) => [m.id, m.txflowStatus]),
      [['q', 'pending']],
    );
    assert.equal(r.counts.open, 1, 'open and not yet downstream: not a mismatch');
    const noGrace = compare(input([recent], ['p'], { graceMs: 0 }));
    assert.deepEqual(ids(noGrace.notCompletedInTxflow), ['p']);
  });

  it('counts rows per ID: more than one is a duplicate, whatever the status; an ID counts once', function () {
    const r = compare(
      input([tx('a', 'completed'), tx('f', 'failed')], ['a', 'a', 'f', 'f', 'f', 'ghost', 'ghost'], {
        lookedUp: new Map([['ghost', null]]),
      }),
    );
    assert.deepEqual(
      r.duplicates.map((d) => [d.id, d.copies]),
      [
        ['a', 2],
        ['f', 3],
        ['ghost', 2],
      ],
    );
    assert.equal(r.counts.matched, 1);
    assert.equal(r.counts.mismatches, 3, 'f and ghost are also not completed, but count once');
  });

  it('looks up only downstream IDs outside the listing whose rows may be in the range', function () {
    const view = input(
      [tx('a', 'completed')],
      [
        'a',
        'no-time',
        { id: 'before', createdAt: '2026-11-22T23:59:59.000Z' },
        { id: 'after', createdAt: '2026-11-24T00:00:01.000Z' },
        { id: 'inside', createdAt: '2026-11-23T08:00:00.000Z' },
      ],
    );
    assert.deepEqual(idsToLookUp(view.txflow, view.downstream, range), ['no-time', 'inside']);
  });

  it('a looked-up transaction started outside the range, or a row not looked up, is out of range', function () {
    const r = compare(
      input([], ['late', 'early', { id: 'old', createdAt: '2020-01-01T00:00:00.000Z' }, 'lagging'], {
        lookedUp: new Map([
          ['late', tx('late', 'completed', '2026-11-24T00:00:05.000Z')],
          ['early', tx('early', 'failed', '2026-11-22T00:00:00.000Z')],
          // In the range but not (yet) in the listing: visibility is eventually consistent.
          ['lagging', tx('lagging', 'completed')],
        ]),
      }),
    );
    assert.equal(r.counts.outOfRange, 3);
    assert.equal(r.counts.matched, 1);
    assert.equal(r.counts.txflow.total, 1);
    assert.equal(r.counts.mismatches, 0);
  });

  it('per-ID mode: presence only, nothing unknown or duplicated can be seen', function () {
    const r = compare(
      input([tx('a', 'completed'), tx('b', 'completed'), tx('f', 'failed')], [], {
        downstream: {
          mode: 'per-id',
          held: new Map(['a', 'f'].map((id) => [id, { id, createdAt: null, content: STORED }])),
          checked: 3,
        },
      }),
    );
    assert.deepEqual(ids(r.missingDownstream), ['b']);
    assert.deepEqual(ids(r.notCompletedInTxflow), ['f']);
    assert.deepEqual(r.duplicates, []);
    assert.equal(r.counts.matched, 1);
  });

  describe('stored content', function () {
    const content = (over: Partial<StoredContent>): StoredContent => ({ ...STORED, ...over });

    it('a row with another amount, currency or account is a mismatch naming the fields; amounts compare as exact decimals', function () {
      const r = compare(
        input(
          ['number', 'zeros', 'amount', 'currency', 'no-accounts', 'dup', 'failed'].map((id) =>
            tx(id, id === 'failed' ? 'failed' : 'completed'),
          ),
          [
            { id: 'number', content: content({ amount: 12.3 }) },
            { id: 'zeros', content: content({ amount: '12.300' }) },
            { id: 'amount', content: content({ amount: '12.31' }) },
            { id: 'currency', content: content({ currency: 'USD', destinationAccount: 'acc_evil' }) },
            { id: 'no-accounts', content: content({ sourceAccount: undefined, destinationAccount: null }) },
            'dup',
            { id: 'dup', content: content({ amount: 1230 }) },
            { id: 'failed', content: content({ amount: '99.99' }) },
          ],
        ),
      );
      assert.deepEqual(
        r.contentDiffers.map((m) => [m.id, m.txflowStatus, m.fields, `${m.rows}/${m.copies}`]),
        [
          ['amount', 'completed', ['amount'], '1/1'],
          ['currency', 'completed', ['currency', 'destination_account'], '1/1'],
          ['dup', 'completed', ['amount'], '1/2'],
          ['failed', 'failed', ['amount'], '1/1'],
          ['no-accounts', 'completed', ['source_account', 'destination_account'], '1/1'],
        ],
      );
      assert.equal(r.counts.matched, 2, '12.3 and "12.300" are the posted "12.30"');
      assert.deepEqual(ids(r.duplicates), ['dup']);
      assert.deepEqual(ids(r.notCompletedInTxflow), ['failed']);
      assert.equal(r.counts.mismatches, 5, 'an ID counts once');
    });

    it('is a mismatch on its own, in per-ID mode too; a transaction whose memo holds no content is not compared', function () {
      const altered = { id: 'a', createdAt: null, content: content({ amount: '12.29' }) };
      const listed = compare(input([tx('a', 'completed')], [altered]));
      assert.deepEqual(ids(listed.contentDiffers), ['a']);
      assert.equal(listed.counts.matched, 0);
      assert.equal(listed.counts.mismatches, 1);
      const perId = compare(
        input([tx('a', 'completed')], [], {
          downstream: { mode: 'per-id', held: new Map([['a', altered]]), checked: 1 },
        }),
      );
      assert.deepEqual(ids(perId.contentDiffers), ['a']);
      const unknown = compare(input([{ ...tx('a', 'completed'), content: null }], [altered]));
      assert.deepEqual(unknown.contentDiffers, []);
      assert.equal(unknown.counts.matched, 1);
    });

    it('reads the posted content from the memo and the stored one from the row, its accounts from its metadata', function () {
      const memo = {
        transaction: { amount: '150.50', currency: 'INR', sourceAccount: 'acc_a', destinationAccount: null },
      };
      assert.deepEqual(postedContent(memo), {
        amount: '150.50',
        currency: 'INR',
        sourceAccount: 'acc_a',
        destinationAccount: null,
      });
      assert.equal(postedContent(undefined), null);
      assert.equal(postedContent({ transaction: { amount: 150.5 } }), null);
      const record = {
        id: 'x',
        amount: 150.5,
        currency: 'INR',
        source_account: 'top-level-is-not-read',
        metadata: { source_account: 'acc_a', order: 'A-17' },
      };
      const stored = storedContent(record);
      assert.deepEqual(stored, {
        amount: 150.5,
        currency: 'INR',
        sourceAccount: 'acc_a',
        destinationAccount: undefined,
      });
      assert.deepEqual(differingFields(postedContent(memo)!, stored), []);
    });
  });

  it('txflow side: the newest run of an ID counts; a closed run never finished is failed; the query', function () {
    const runs = latestRuns([
      tx('a', 'failed', '2026-11-23T10:00:00.000Z'),
      tx('a', 'completed', '2026-11-23T11:00:00.000Z'),
      tx('b', 'pending'),
    ]);
    assert.equal(runs.get('a')?.status, 'completed');
    assert.equal(runs.size, 2);
    assert.equal(statusOf('processing', false), 'failed');
    assert.equal(statusOf(undefined, true), 'pending');
    assert.equal(statusOf('cancelled', false), 'cancelled');
    assert.equal(
      rangeQuery(range, 'txflow'),
      'WorkflowType = "processTransaction" AND StartTime >= "2026-11-23T00:00:00.000Z" AND ' +
        'StartTime <= "2026-11-24T00:00:00.000Z" AND TaskQueue = "txflow"',
    );
  });
});

describe('reconcile: flags', function () {
  const env = {
    TEMPORAL_ADDRESS: 'temporal.example:7233',
    POSTING_SERVICE_URL: 'http://posting.example:8080/',
  };

  it('defaults: the last 24 h, the env for Temporal and the posting service, 300 s grace', function () {
    const parsed = parseFlags([], env, now);
    assert.ok(!parsed.help);
    const o = parsed.options;
    assert.equal(o.to.toISOString(), now.toISOString());
    assert.equal(o.from.toISOString(), '2026-11-23T00:00:00.000Z');
    assert.equal(o.temporal, 'temporal.example:7233');
    assert.equal(o.namespace, 'default');
    assert.equal(o.posting, 'http://posting.example:8080');
    assert.equal(o.graceMs, 300_000);
    assert.equal(o.taskQueue, null);
  });

  it('names each bad flag; --from after --to is refused', function () {
    assert.throws(
      () => parseFlags(['--from', 'yesterday', '--grace=-1', '--posting', 'ftp://x'], env, now),
      (err: Error) =>
        err instanceof FlagError &&
        /--from="yesterday": must be an ISO 8601/.test(err.message) &&
        /--grace="-1": must be a whole number/.test(err.message) &&
        /--posting="ftp:\/\/x": must be an http\(s\) URL/.test(err.message),
    );
    assert.throws(
      () => parseFlags(['--from', '2026-11-25', '--to', '2026-11-24'], env, now),
      /--from="2026-11-25": must not be after --to/,
    );
    assert.throws(() => parseFlags(['--nope'], env, now), FlagError);
  });
});

function runCli(args: string[]): Promise<RunResult> {
  const txflow = txflowCommand('reconcile', args, { PATH: process.env.PATH });
  return runProcess(txflow.command, txflow.args, txflow.env, 60_000);
}

/** Answers 404 to GET /transactions (a posting service without a list) and forwards the rest to `target`. */
async function withoutList(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/transactions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    fetch(`${target}${req.url ?? '/'}`, { method: req.method })
      .then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('reconcile end to end: real API, worker, mock and Temporal, each mismatch made to happen', function () {
  this.timeout(180_000);
  let client: Client;
  let mock: RunningMock;
  let worker: RunningWorker | undefined;
  let workerStopped = false;
  let taskQueue: string;
  let app: Express;
  let out: string;
  let options: ReconcileOptions;
  const run = Date.now().toString(36);
  const id = (name: string) => `rec-${run}-${name}`;
  const body = (txId: string) => ({
    id: txId,
    amount: '12.30',
    currency: 'EUR',
    source_account: 'acc_a',
    destination_account: 'acc_b',
  });

  async function submit(target: Express, txId: string) {
    const res = await request(target).post('/api/transactions').send(body(txId));
    assert.equal(res.status, 202, JSON.stringify(res.body));
  }

  async function until(txId: string, status: string) {
    await eventually(
      async () => {
        const res = await request(app).get(`/api/transactions/${txId}`);
        assert.equal(res.body.status, status, txId);
      },
      60_000,
      100,
    );
  }

  /** A write that reaches the downstream without txflow: straight to the mock over HTTP, as txflow posts it. */
  async function postToMock(txId: string) {
    const res = await fetch(`${mock.url}/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: txId,
        amount: 12.3,
        currency: 'EUR',
        metadata: { source_account: 'acc_a', destination_account: 'acc_b' },
      }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  before(async function () {
    client = await testClient();
    mock = await startMock();
    taskQueue = uniqueTaskQueue('reconcile');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 1_000 });
    app = testApp(client, taskQueue);
    out = await mkdtemp(path.join(tmpdir(), 'reconcile-'));
    const from = new Date(Date.now() - 5_000);

    // Completed, then deleted downstream (the mock's /cleanup, before anything else is stored); and completed,
    // deleted, then stored again straight into the mock with another amount and destination.
    await submit(app, id('missing'));
    await submit(app, id('altered'));
    await until(id('missing'), 'completed');
    await until(id('altered'), 'completed');
    const cleanup = await fetch(`${mock.url}/cleanup`, { method: 'POST' });
    assert.deepEqual(await cleanup.json(), { count: 2 });
    mock.store.add({
      id: id('altered'),
      amount: '12.31',
      currency: 'EUR',
      metadata: { source_account: 'acc_a', destination_account: 'acc_evil' },
    });

    // Completed and held once; completed and then stored a second time by a direct POST.
    await submit(app, id('ok'));
    await submit(app, id('dup'));
    await until(id('ok'), 'completed');
    await until(id('dup'), 'completed');
    await postToMock(id('dup'));

    // Failed in txflow (every POST refused before writing until its 2 s deadline), then a late write lands.
    mock.faults.update({ preWriteFailureRate: 1 });
    await submit(testApp(client, taskQueue, fastPolicy({ deadlineMs: 2_000 })), id('late'));
    await until(id('late'), 'failed');
    mock.faults.update({ preWriteFailureRate: 0 });
    await postToMock(id('late'));

    // Held downstream, unknown to txflow; and a row written long before the range, straight into the store.
    await postToMock(id('ghost'));
    mock.store.add({ id: id('old'), amount: '1.00', currency: 'EUR' }, new Date('2020-06-01T00:00:00Z'));

    // Posted but its completion not yet recorded: no worker runs it, and its row is already downstream.
    await worker.stop();
    workerStopped = true;
    await submit(app, id('inflight'));
    await postToMock(id('inflight'));

    options = {
      from,
      to: new Date(),
      taskQueue,
      temporal: testTemporalAddress(),
      namespace: 'default',
      posting: mock.url,
      graceMs: 300_000,
      limit: 20,
      out,
    };
  });

  after(async function () {
    if (!workerStopped) await worker?.stop();
    await mock?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('finds the one missing downstream, the failed and the unknown held downstream, the duplicate, the altered; one in flight', async function () {
    const posting = readOnlyPostingClient(mock.url, 10_000, 4);
    try {
      // Visibility is eventually consistent: a status may take a moment to show there.
      const report = await eventually(
        async () => {
          const r = await reconcile(options, { client, posting });
          assert.equal(r.counts.txflow.completed, 4, JSON.stringify(r.counts));
          return r;
        },
        20_000,
        250,
      );
      assert.equal(report.downstream.mode, 'list');
      assert.deepEqual(ids(report.missingDownstream), [id('missing')]);
      assert.deepEqual(
        report.notCompletedInTxflow.map((m) => [m.id, m.txflowStatus, m.copies]),
        [
          [id('ghost'), 'unknown', 1],
          [id('late'), 'failed', 1],
        ],
      );
      assert.deepEqual(
        report.duplicates.map((m) => [m.id, m.txflowStatus, m.copies]),
        [[id('dup'), 'completed', 2]],
      );
      assert.deepEqual(
        report.contentDiffers.map((m) => [m.id, m.txflowStatus, m.fields, m.rows, m.copies]),
        [[id('altered'), 'completed', ['amount', 'destination_account'], 1, 1]],
      );
      assert.deepEqual(
        report.inFlight.map((m) => [m.id, m.txflowStatus]),
        [[id('inflight'), 'pending']],
      );
      assert.deepEqual(report.counts, {
        txflow: { total: 6, pending: 1, processing: 0, completed: 4, failed: 1, cancelled: 0 },
        matched: 2,
        open: 0,
        outOfRange: 1,
        mismatches: 5,
      });
      assert.equal(report.ok, false);
    } finally {
      await posting.close();
    }
  });

  it('without a list endpoint, falls back to a GET per ID: missing and failed found, nothing else claimed', async function () {
    const proxy = await withoutList(mock.url);
    const posting = readOnlyPostingClient(proxy.url, 10_000, 4);
    try {
      const report = await reconcile({ ...options, posting: proxy.url }, { client, posting });
      assert.deepEqual(report.downstream, { mode: 'per-id', checked: 6, held: 5 });
      assert.deepEqual(report.checked, { unknownDownstream: false, duplicates: false });
      assert.deepEqual(ids(report.missingDownstream), [id('missing')]);
      assert.deepEqual(ids(report.notCompletedInTxflow), [id('late')]);
      assert.deepEqual(report.duplicates, []);
      assert.deepEqual(ids(report.contentDiffers), [id('altered')]);
      assert.deepEqual(ids(report.inFlight), [id('inflight')]);
    } finally {
      await posting.close();
      proxy.server.close();
    }
  });

  it('the CLI exits 1 on mismatches and writes the JSON; with --grace 0 the in-flight one is a mismatch', async function () {
    const result = await runCli([
      `--from=${options.from.toISOString()}`,
      `--to=${options.to.toISOString()}`,
      `--task-queue=${taskQueue}`,
      `--temporal=${options.temporal}`,
      `--posting=${mock.url}`,
      '--grace=0',
      `--out=${out}`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /completed in txflow, missing downstream\s+1\s+MISMATCH/);
    assert.match(result.stdout, /held downstream more than once\s+1\s+MISMATCH/);
    assert.match(result.stdout, /stored with different content\s+1\s+MISMATCH/);
    assert.ok(
      result.stdout.includes(
        `${id('altered')}: completed in txflow, its row with another amount, destination_account`,
      ),
      result.stdout,
    );
    assert.match(result.stdout, /result: 6 transactions mismatched/);
    const files = (await readdir(out)).filter((f) => /^reconcile-\d{8}T\d{6}Z\.json$/.test(f));
    assert.equal(files.length, 1, String(files));
    const report = JSON.parse(await readFile(path.join(out, files[0] as string), 'utf8')) as ReconcileReport;
    assert.ok(result.stdout.includes(`report: ${path.join(out, files[0] as string)}`));
    assert.deepEqual(ids(report.notCompletedInTxflow), [id('ghost'), id('inflight'), id('late')]);
    assert.deepEqual(report.inFlight, []);
    assert.deepEqual(ids(report.missingDownstream), [id('missing')]);
    assert.deepEqual(ids(report.duplicates), [id('dup')]);
    assert.deepEqual(ids(report.contentDiffers), [id('altered')]);
    assert.equal(report.ok, false);
  });

  it('the CLI exits 0 over a range with nothing of txflow in it; 2 on a bad flag; 3 when a service is down', async function () {
    const clean = await runCli([
      '--from=2021-01-01',
      '--to=2021-01-02',
      `--task-queue=${taskQueue}`,
      `--temporal=${options.temporal}`,
      `--posting=${mock.url}`,
      `--out=${out}`,
    ]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /downstream only, outside the range\s+7/);
    assert.match(clean.stdout, /result: no mismatch/);

    const bad = await runCli(['--from=2026-13-45', `--temporal=${options.temporal}`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from="2026-13-45": must be an ISO 8601/);

    const down = await runCli([
      `--temporal=${options.temporal}`,
      `--posting=http://127.0.0.1:${await freePort()}`,
      `--task-queue=${taskQueue}`,
      `--out=${out}`,
    ]);
    assert.equal(down.code, 3, down.stdout + down.stderr);
    assert.match(down.stderr, /cannot reconcile: GET \/transactions: ECONNREFUSED/);
  });
});
