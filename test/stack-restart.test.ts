// `npm start` with real processes killed for real (issue 12, item 9): a worker that dies is restarted (one
// log line, counted in the API's health) while the rest of the stack stays up, transactions still complete,
// a second worker started by hand just joins; a worker that keeps dying is a crash loop that ends the stack,
// naming it. The stack runs on the test Temporal server and a test mock (it starts neither itself).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { eventually } from './support/eventually';
import { startMock, type RunningMock } from './support/mock-server';
import { childPids, spawnStack, type RunningStack } from './support/stack-process';
import { uniqueTaskQueue } from './support/temporal';
import { startWorkerProcess, type RunningWorkerProcess } from './support/worker-process';

const isRunningLine = (line: string) => line.includes('txflow is running:');
const workerRunning = (lines: string[]) => lines.filter((l) => /^worker +\|.*worker running/.test(l)).length;

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('npm start: a component that dies', function () {
  this.timeout(180_000);
  let mock: RunningMock;
  let dataDir: string;
  let stack: RunningStack | undefined;
  let extra: RunningWorkerProcess | undefined;

  before(async function () {
    mock = await startMock();
  });

  beforeEach(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'txflow-stack-restart-'));
  });

  afterEach(async function () {
    await extra?.process.stop(5_000);
    await stack?.process.stop(30_000);
    await rm(dataDir, { recursive: true, force: true });
  });

  after(async function () {
    await mock?.stop();
  });

  it('kill -9 of the worker: restarted, logged and counted; the stack stays up and transactions complete', async function () {
    const taskQueue = uniqueTaskQueue('stack-restart');
    stack = await spawnStack({
      POSTING_SERVICE_URL: mock.url,
      TASK_QUEUE: taskQueue,
      TXFLOW_DATA_DIR: dataDir,
      TXFLOW_RESTART_BACKOFF_MS: '200',
      // Given to npm start, it is the worker's alone: the API runs as started (decision 0028).
      TXFLOW_NICE: '3',
    });
    const running = stack;
    await running.process.waitForLine(isRunningLine, 150_000, '"txflow is running"');
    const health = await getJson(`${running.url}/api/health`);
    assert.deepEqual(health.body.restarts, { worker: 0, api: 0 });

    const stackPid = running.process.pid ?? 0;
    const [worker] = childPids(stackPid, 'worker/main.js');
    const [api] = childPids(stackPid, 'api/main.js');
    assert.ok(worker && api, `worker ${worker}, api ${api}`);
    const base = getPriority();
    if (base <= 16) assert.equal(getPriority(worker), base + 3, 'the worker, niced');
    assert.equal(getPriority(api), base, 'the API, not niced');
    process.kill(worker, 'SIGKILL');

    // One structured line for the restart, then the new worker polls.
    const restartLine = await running.process.waitForLine(
      (l) => l.includes('worker was killed by SIGKILL: restarting it'),
      20_000,
    );
    assert.match(restartLine, /^stack +\|.* WARN .*"child":"worker".*"restart":1/);
    await eventually(() => assert.equal(workerRunning(running.lines), 2), 60_000, 200);
    const [newWorker] = childPids(stackPid, 'worker/main.js');
    assert.ok(newWorker && newWorker !== worker, `a new worker process: ${newWorker}`);
    assert.deepEqual(childPids(stackPid, 'api/main.js'), [api], 'the API was left alone');
    assert.equal(running.process.running, true);
    assert.ok(!running.lines.some((l) => l.includes('stopping everything')), 'nothing stopped');
    await eventually(async () => {
      const { body } = await getJson(`${running.url}/api/health`);
      assert.deepEqual(body.restarts, { worker: 1, api: 0 });
    }, 10_000);

    // A second worker started by hand beside it (`npm run worker`) just joins.
    extra = await startWorkerProcess(taskQueue, mock.url, 60_000);
    const ids = Array.from({ length: 4 }, () => `stack-restart-${randomUUID()}`);
    for (const id of ids) {
      const res = await request(`${running.url}/api/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          amount: '3.00',
          currency: 'EUR',
          source_account: 'a',
          destination_account: 'b',
        }),
      });
      await res.body.dump();
      assert.equal(res.statusCode, 202);
    }
    await eventually(
      async () => {
        for (const id of ids) {
          const { body } = await getJson(`${running.url}/api/transactions/${id}`);
          assert.equal(body.status, 'completed', id);
        }
      },
      60_000,
      200,
    );
    for (const id of ids) assert.equal(mock.store.copies(id), 1);
    assert.equal(extra.process.running, true);
    assert.equal(running.process.running, true);
    assert.equal(running.lines.filter((l) => l.includes('restarting it')).length, 1, 'no other restart');
  });

  it('a worker that keeps dying at once: a crash loop ends the stack, exit 1, naming the worker', async function () {
    stack = await spawnStack({
      POSTING_SERVICE_URL: mock.url,
      TASK_QUEUE: uniqueTaskQueue('stack-crash-loop'),
      TXFLOW_DATA_DIR: dataDir,
      TXFLOW_RESTART_BACKOFF_MS: '100',
      // Out of range: the worker refuses its configuration and exits 2 at once, every time.
      WORKER_MAX_CONCURRENT_ACTIVITIES: '0',
    });
    const info = await stack.process.exited;
    const output = stack.lines.join('\n');
    assert.equal(info.code, 1, output);
    assert.equal(stack.lines.filter((l) => l.includes('worker exited with code 2: restarting it')).length, 4);
    assert.match(output, /worker exited with code 2: it crashed 5 times within 60 s, a crash loop/);
    assert.match(output, /WORKER_MAX_CONCURRENT_ACTIVITIES/);
    assert.ok(!output.includes('txflow is running'), output);
  });
});
