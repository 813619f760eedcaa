// The all-in-one process (dist/src/all-in-one/main.js: API and worker in one Node process, eager workflow
// start) as a real process against the test dev server and the mock over HTTP.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { ManagedProcess } from '../tools/shared/processes';
import {
  spawnAllInOneProcess,
  startAllInOneProcess,
  type RunningAllInOne,
} from './support/all-in-one-process';
import { eventually } from './support/eventually';
import { testClient } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { connectError } from './support/connect';
import { startPausableProxy, type PausableProxy } from './support/tcp-proxy';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

const payload = (id: string) =>
  JSON.stringify({
    id,
    amount: '10.00',
    currency: 'EUR',
    source_account: 'acc_a',
    destination_account: 'acc_b',
  });

async function submit(url: string, id: string): Promise<number> {
  const res = await request(`${url}/api/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload(id),
  });
  await res.body.dump();
  return res.statusCode;
}

async function statusOf(url: string, id: string): Promise<string> {
  const res = await request(`${url}/api/transactions/${id}`);
  return ((await res.body.json()) as { status: string }).status;
}

/** The value of `txflow_api_workflow_starts_total{eager}` in the process's /metrics. */
async function starts(url: string): Promise<{ eager: number; notEager: number }> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const value = (eager: string) => {
    const m = new RegExp(`^txflow_api_workflow_starts_total\\{eager="${eager}"\\} (\\d+)$`, 'm').exec(text);
    assert.ok(m, `no eager="${eager}" series in /metrics`);
    return Number(m[1]);
  };
  return { eager: value('true'), notEager: value('false') };
}

/** Submits `count` new transactions at once (each a second time too when `twice`); all must be accepted. */
async function submitAll(url: string, prefix: string, count: number, twice = false): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${randomUUID()}`);
  const first = await Promise.all(ids.map((id) => submit(url, id)));
  assert.deepEqual(
    first.filter((s) => s !== 202),
    [],
    'every new transaction answered 202',
  );
  if (twice) {
    const again = await Promise.all(ids.map((id) => submit(url, id)));
    assert.deepEqual(
      again.filter((s) => s !== 200),
      [],
      'every repeat answered 200',
    );
  }
  return ids;
}

async function allCompleted(url: string, ids: string[]): Promise<void> {
  await eventually(
    async () => {
      const statuses = await Promise.all(ids.map((id) => statusOf(url, id)));
      assert.deepEqual(
        statuses.filter((s) => s !== 'completed'),
        [],
      );
    },
    30_000,
    200,
  );
}

describe('the all-in-one process (npm run all-in-one)', function () {
  this.timeout(120_000);
  let mock: RunningMock;
  let proxy: PausableProxy | undefined;
  let running: RunningAllInOne | undefined;
  /** A process expected to exit by itself: stopped after the test if it did not. */
  let exiting: ManagedProcess | undefined;

  before(async function () {
    mock = await startMock();
  });

  afterEach(async function () {
    proxy?.resume();
    await running?.process.stop(10_000);
    await exiting?.stop(10_000);
    await proxy?.close();
    running = undefined;
    exiting = undefined;
    proxy = undefined;
    mock.faults.update({ postLatencyMs: { min: 0, max: 0 } });
  });

  after(async function () {
    await mock?.stop();
  });

  it('completes transactions submitted over HTTP, posts each exactly once and starts them eagerly', async function () {
    running = await startAllInOneProcess({
      TASK_QUEUE: uniqueTaskQueue('aio'),
      POSTING_SERVICE_URL: mock.url,
    });
    const before = await starts(running.url);
    assert.deepEqual(before, { eager: 0, notEager: 0 });

    const ids = await submitAll(running.url, 'aio', 20, true);
    await allCompleted(running.url, ids);
    for (const id of ids) assert.equal(mock.store.copies(id), 1, `${id} stored once downstream`);

    const after = await starts(running.url);
    assert.equal(after.eager + after.notEager, 20, 'one start per new transaction, none for the repeats');
    assert.ok(after.eager > 0, `some starts were eager: ${JSON.stringify(after)}`);
    const health = (await (await request(`${running.url}/api/health`)).body.json()) as {
      downstream: { probe: { status: string } | null };
    };
    assert.notEqual(health.downstream.probe, null, "the API probes the worker's downstream");
  });

  it('with EAGER_WORKFLOW_START=false starts every run through the matching service', async function () {
    running = await startAllInOneProcess({
      TASK_QUEUE: uniqueTaskQueue('aio-plain'),
      POSTING_SERVICE_URL: mock.url,
      EAGER_WORKFLOW_START: 'false',
    });
    const ids = await submitAll(running.url, 'aio-plain', 5);
    await allCompleted(running.url, ids);
    for (const id of ids) assert.equal(mock.store.copies(id), 1, `${id} stored once downstream`);
    assert.deepEqual(await starts(running.url), { eager: 0, notEager: 5 });
  });

  for (const [variable, value, rule] of [
    ['EAGER_WORKFLOW_START', 'maybe', 'must be true or false'],
    ['PORT', '99999', 'must be at most 65535'],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0', 'must be at least 1'],
  ] as const) {
    it(`stops at start-up with exit code 2 naming ${variable} for a bad value`, async function () {
      const proc = (exiting = (
        await spawnAllInOneProcess({ TASK_QUEUE: uniqueTaskQueue('aio-bad'), [variable]: value })
      ).process);
      const exit = await proc.exited;
      assert.equal(exit.code, 2, proc.tail());
      assert.ok(proc.tail().includes(`${variable}="${value}": ${rule}`), proc.tail());
      assert.ok(!proc.tail().includes('worker running'), 'nothing started');
    });
  }

  it('on SIGTERM answers the request in flight, then lets the running activity finish, and exits 0', async function () {
    // Well under either grace (60 s): passing means neither was waited out.
    this.timeout(60_000);
    // Temporal behind a pausable proxy holds the request in flight; a slow downstream holds an activity.
    proxy = await startPausableProxy(testTemporalAddress());
    mock.faults.update({ postLatencyMs: { min: 4_000, max: 4_000 } });
    running = await startAllInOneProcess({
      TEMPORAL_ADDRESS: proxy.address,
      TASK_QUEUE: uniqueTaskQueue('aio-stop'),
      POSTING_SERVICE_URL: mock.url,
      POSTING_TIMEOUT_MS: '20000',
      POST_RETRY_ATTEMPT_TIMEOUT_MS: '30000',
      // The POST as an activity task, the one a stopping worker lets finish (a local POST lasts 3 s at most).
      POST_LOCALLY: 'false',
      SHUTDOWN_GRACE_MS: '60000',
      WORKER_SHUTDOWN_GRACE_MS: '60000',
      TEMPORAL_RPC_TIMEOUT_MS: '30000',
    });
    const { process: proc, url, lines } = running;
    const port = Number(new URL(url).port);

    // A transaction whose POST is held at the downstream.
    const slowPost = `aio-activity-${randomUUID()}`;
    const postsBefore = mock.store.stats().requests.post;
    assert.equal(await submit(url, slowPost), 202);
    await eventually(() => assert.equal(mock.store.stats().requests.post - postsBefore, 1), 15_000);

    proxy.pause();
    const inFlight = `aio-inflight-${randomUUID()}`;
    const answer = request(`${url}/api/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload(inFlight),
    }).then(async (res) => ({
      status: res.statusCode,
      connection: res.headers.connection,
      body: await res.body.text(),
    }));
    // The start request has reached the proxy: the request is inside the process.
    await eventually(() => assert.ok(proxy!.heldBytes > 300, `held ${proxy!.heldBytes} bytes`), 10_000);

    proc.kill('SIGTERM');
    await proc.waitForLine((l) => l.includes('"msg":"api stopping"'), 10_000, 'its "api stopping" line');
    assert.equal(await connectError(port), 'ECONNREFUSED', 'a new connection after SIGTERM');
    assert.equal(proc.running, true, 'it waits for the request in flight');

    proxy.resume();
    const answered = await answer;
    assert.equal(answered.status, 202, answered.body);
    assert.equal(answered.connection, 'close');
    await proc.waitForLine((l) => l.includes('"msg":"api stopped"'), 10_000, 'its "api stopped" line');
    assert.equal(
      mock.store.copies(slowPost),
      0,
      'the POST is still at the downstream when the API has stopped',
    );
    assert.equal(proc.running, true, 'the worker waits for its running activity');

    const exit = await proc.exited;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, proc.tail());
    assert.equal(mock.store.copies(slowPost), 1, 'the running POST finished');
    const client = await testClient();
    const { events } = await client.workflow.getHandle(slowPost).fetchHistory();
    const completed = (events ?? []).filter((e) => e.activityTaskCompletedEventAttributes).length;
    // The check ran locally (CHECK_LOCALLY, the default): a marker, not an activity task.
    const localChecks = (events ?? []).filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length;
    assert.deepEqual(
      { completed, localChecks },
      { completed: 1, localChecks: 1 },
      'check and post both reported completed before the worker stopped',
    );

    const order = ['api stopping', 'api stopped', 'worker stopped', 'all-in-one stopped'].map((msg) =>
      lines.findIndex((l) => l.includes(`"msg":"${msg}"`)),
    );
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] ?? -1))),
      `stop lines in order: ${JSON.stringify(order)}`,
    );
    assert.ok(!lines.some((l) => l.includes('grace period over')), 'no grace ran out');
    const last = JSON.parse(lines.find((l) => l.includes('"msg":"all-in-one stopped"')) ?? '{}') as {
      workflow_starts?: number;
    };
    assert.equal(last.workflow_starts, 2, 'its closing line counts both starts');
  });
});
