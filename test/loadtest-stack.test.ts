import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTestOptions } from '../tools/loadtest/options';
import { writeReports } from '../tools/loadtest/report-json';
import { runLoadTest } from '../tools/loadtest/run-load-test';
import { formatSummary } from '../tools/loadtest/summary';
import { testApp } from './support/api';
import { startWorker, testClient, type RunningWorker } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';

// The CI smoke: the quick profile against the real txflow (API, worker, dev server, mock over HTTP), with
// downstream faults. Correctness only (nothing lost or duplicated, reports written); no timing asserted.
describe('loadtest: quick run against the real txflow stack', function () {
  this.timeout(300_000);
  let mock: RunningMock;
  let worker: RunningWorker;
  let server: Server;
  let out: string;

  before(async function () {
    mock = await startMock();
    const taskQueue = uniqueTaskQueue('loadtest');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 1_000 });
    const app = testApp(await testClient(), taskQueue);
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    out = await mkdtemp(path.join(tmpdir(), 'txflow-loadtest-'));
  });

  after(async function () {
    server?.closeAllConnections();
    server?.close();
    await worker?.stop();
    await mock?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('passes --quick with faults: nothing lost, nothing duplicated, everything finished; reports parse', async function () {
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await runLoadTest(
      loadTestOptions({
        quick: true,
        api,
        mock: mock.url,
        quiet: true,
        out,
        faults: { preWriteFailureRate: 0.2, postWriteFailureRate: 0.1, postLatencyMs: { min: 0, max: 20 } },
      }),
    );
    assert.equal(r.passed, true, formatSummary(r));
    assert.equal(r.verification?.duplicates.length ?? -1, 0);
    assert.equal(r.verification?.lost.length ?? -1, 0);
    assert.ok(mock.store.stats().faults.preWrite > 0, 'faults were injected');
    // The real API's listing settled transactions in bulk (visibility), per-ID polls the rest.
    const c = r.completion;
    assert.equal(c.sweep.listing, 'used', formatSummary(r));
    assert.ok(c.settledBy.sweep > 0, formatSummary(r));
    assert.equal(c.settledBy.sweep + c.settledBy.poll, c.completed);
    const files = await writeReports(r, out);
    const json = JSON.parse(await readFile(files.json, 'utf8')) as { schema: string; passed: boolean };
    assert.equal(json.schema, 'txflow-loadtest/1');
    assert.equal(json.passed, true);
    const html = await readFile(files.html, 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /(src|href)="https?:/);
  });
});
