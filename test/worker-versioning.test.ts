import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { temporal } from '@temporalio/proto';
import { processTransaction } from '../src/workflows';
import { freePort } from '../tools/shared/ports';
import type { ManagedProcess } from '../tools/shared/processes';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, testClient } from './support/harness';
import { startAllInOneProcess } from './support/all-in-one-process';
import { startMock, type RunningMock } from './support/mock-server';
import { runProcess, type RunResult } from './support/run-process';
import { deliveryOf, trace } from './support/run-trace';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { otherBuild, type WorkerBuild } from './support/worker-build';
import { startWorkerProcess } from './support/worker-process';

const DEPLOYMENT_MAIN = resolve(__dirname, '..', 'tools', 'deployment', 'main.js');
const { VERSIONING_BEHAVIOR_PINNED, VERSIONING_BEHAVIOR_AUTO_UPGRADE } =
  temporal.api.enums.v1.VersioningBehavior;
/** v2's workflow code differs from v1's in what it calls its POST activity: history shows whose code decided. */
const V2_POST_SUMMARY = 'post (build v2)';

describe('worker versioning: a rollout on the dev server (real worker processes, npm run deployment)', function () {
  this.timeout(180_000);
  const deploymentName = `txflow-test-${randomUUID().slice(0, 8)}`;
  const taskQueue = uniqueTaskQueue('versioning');
  let client: Client;
  let mock: RunningMock;
  let v2Build: WorkerBuild | undefined;
  const workers: ManagedProcess[] = [];
  /** Nothing listens there: a delivery to it retries, and shows where its attempts run. */
  let hookPort: number;
  const callbackEnv = () => ({
    CALLBACK_SIGNING_SECRET: 'versioning-test-secret-0123',
    CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${hookPort}`,
  });

  const deployment = (...args: string[]): Promise<RunResult> =>
    runProcess(
      process.execPath,
      [DEPLOYMENT_MAIN, ...args],
      { ...process.env, TEMPORAL_ADDRESS: testTemporalAddress(), WORKER_DEPLOYMENT_NAME: deploymentName },
      30_000,
    );
  // Temporal refuses a version until a worker of it has polled: retried while the new worker registers.
  const setCurrent = (buildId: string) =>
    eventually(
      async () => {
        const result = await deployment('set-current', buildId);
        assert.equal(result.code, 0, result.stderr);
        return result;
      },
      30_000,
      500,
    );
  const versioned = (buildId: string) => ({
    WORKER_DEPLOYMENT_NAME: deploymentName,
    WORKER_BUILD_ID: buildId,
    ...callbackEnv(),
  });
  /** `n` transactions; with `withCallback`, the first announces its end to the hook. */
  const start = async (n: number, withCallback = false) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const transaction = newTransaction();
      const callbacks = {
        urls: [`http://127.0.0.1:${hookPort}/hook`],
        dialect: 'api' as const,
        submittedAt: new Date().toISOString(),
        policy: { windowMs: 120_000, timeoutMs: 1_000, initialIntervalMs: 200, maxIntervalMs: 1_000 },
      };
      await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: transaction.id,
        args: [
          {
            transaction,
            policy: fastPolicy({ deadlineMs: 300_000 }),
            ...(withCallback && i === 0 && { callbacks }),
          },
        ],
      });
      ids.push(transaction.id);
    }
    return ids;
  };
  /** Waits until each run's first workflow task has placed it on a version. */
  const placed = (ids: string[], buildId: string) =>
    eventually(
      async () => {
        for (const id of ids) assert.equal((await trace(client, id)).buildId, buildId, id);
      },
      30_000,
      200,
    );
  const completed = async (ids: string[]) => {
    for (const id of ids) {
      const state = await client.workflow.getHandle(id).result();
      assert.equal(state.status, 'completed', id);
      assert.equal(state.outcome, 'posted', id);
      assert.equal(mock.store.copies(id), 1, `${id} stored once downstream`);
    }
  };
  const ranOnlyOn = async (ids: string[], worker: ManagedProcess, buildId: string, postSummary: string) => {
    for (const id of ids) {
      const run = await trace(client, id);
      assert.equal(run.buildId, buildId, `${id}: its version`);
      assert.equal(run.behavior, VERSIONING_BEHAVIOR_PINNED, `${id}: pinned`);
      assert.deepEqual(
        [...run.identities].map((who) => who.split('@')[0]),
        [String(worker.pid)],
        `${id}: worker`,
      );
      // One POST, or more when the circuit breaker paused it during the outage: all scheduled by this code.
      assert.ok(run.posts.length >= 1, `${id}: a POST was scheduled`);
      assert.deepEqual(
        [...new Set(run.posts.map((p) => p.summary))],
        [postSummary],
        `${id}: whose workflow code scheduled the POST`,
      );
    }
  };

  before(async function () {
    client = await testClient();
    hookPort = await freePort();
    // Down until the rollout is done: the first transactions wait in their check, in flight on v1.
    mock = await startMock({ outage: true });
    v2Build = otherBuild((bundle) =>
      bundle.replace("('post', policy.post,", `('${V2_POST_SUMMARY}', policy.post,`),
    );
  });

  after(async function () {
    for (const worker of workers) await worker.stop(10_000);
    await mock?.stop();
    v2Build?.remove();
  });

  it('v2 beside v1: in-flight runs finish on v1, new ones go to v2; a rollback sends new ones to v1', async function () {
    const v1 = (await startWorkerProcess(taskQueue, mock.url, 90_000, versioned('v1'))).process;
    workers.push(v1);
    assert.match(v1.tail(), /"workerVersion":"txflow-test-[^"]+\.v1"/, 'the worker logs its version');
    const first = await setCurrent('v1');
    assert.match(first.stdout, /current v1 \(was \(unversioned workers\)\)/);

    const inFlight = await start(3, true);
    await placed(inFlight, 'v1');

    const v2 = await v2Build!.startWorker(taskQueue, mock.url, versioned('v2'));
    workers.push(v2);
    await setCurrent('v2');
    const switchedAt = Date.now();
    const onV2 = await start(3);
    await placed(onV2, 'v2');

    // The downstream answers again: every run goes on, each on its own version.
    mock.faults.update({ outage: false });
    await completed([...inFlight, ...onV2]);
    await ranOnlyOn(inFlight, v1, 'v1', 'post');
    await ranOnlyOn(onV2, v2, 'v2', V2_POST_SUMMARY);
    for (const id of inFlight) {
      const [post] = (await trace(client, id)).posts;
      assert.ok(post && post.at > switchedAt, `${id}: v1's code posted after v2 became current`);
    }

    // The callback delivery the first one started on finishing (after the switch): auto-upgrade, so it runs on
    // the current build, v2, not on its pinned parent's, and does not keep v1 alive for its retry window.
    const delivery = await eventually(
      async () => {
        const found = await deliveryOf(client, inFlight[0]!);
        assert.equal(found.behavior, VERSIONING_BEHAVIOR_AUTO_UPGRADE);
        assert.equal(found.buildId, 'v2');
        assert.equal(found.lastAttemptBy?.split('@')[0], String(v2.pid), 'its attempts run on v2');
        return found.workflowId;
      },
      30_000,
      200,
    );
    await client.workflow.getHandle(delivery).terminate('test over');

    // Rollback: v1 current again; new runs go to v1, v2's worker gets nothing more.
    const back = await setCurrent('v1');
    assert.match(back.stdout, /current v1 \(was v2\)/);
    const afterRollback = await start(2);
    await completed(afterRollback);
    await ranOnlyOn(afterRollback, v1, 'v1', 'post');

    const described = await deployment('describe');
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, new RegExp(`deployment ${deploymentName}: current v1`));
    assert.match(described.stdout, /^\s+v1\s+current\s+0$/m, described.stdout);
    assert.match(described.stdout, /^\s+v2\s+(draining|drained)\s+0$/m, described.stdout);
  });

  it('an unversioned worker (no WORKER_DEPLOYMENT_NAME/WORKER_BUILD_ID) runs transactions as before', async function () {
    mock.faults.update({ outage: false });
    const plainQueue = uniqueTaskQueue('unversioned');
    const plain = (await startWorkerProcess(plainQueue, mock.url, 90_000)).process;
    workers.push(plain);
    assert.match(plain.tail(), /"workerVersion":"unversioned"/);
    const transaction = newTransaction();
    const handle = await client.workflow.start(processTransaction, {
      taskQueue: plainQueue,
      workflowId: transaction.id,
      args: [{ transaction, policy: fastPolicy() }],
    });
    assert.equal((await handle.result()).status, 'completed');
    assert.equal(mock.store.copies(transaction.id), 1);
    const run = await trace(client, transaction.id);
    assert.equal(run.buildId, undefined, 'no version');
    assert.ok(!run.behavior, 'no versioning behaviour');
    assert.deepEqual(
      [...run.identities].map((who) => who.split('@')[0]),
      [String(plain.pid)],
    );
  });
  it('a versioned all-in-one starts without eager start: its new runs follow the current version', async function () {
    mock.faults.update({ outage: false });
    const aioDeployment = `${deploymentName}-aio`;
    const aio = await startAllInOneProcess({
      TASK_QUEUE: uniqueTaskQueue('versioned-aio'),
      POSTING_SERVICE_URL: mock.url,
      WORKER_DEPLOYMENT_NAME: aioDeployment,
      WORKER_BUILD_ID: 'a1',
    });
    workers.push(aio.process);
    assert.ok(
      aio.lines.some((line) => line.includes('"eager_start":false') && line.includes('all-in-one running')),
      'eager start is off',
    );
    await eventually(
      async () => {
        const result = await deployment('set-current', 'a1', '--name', aioDeployment);
        assert.equal(result.code, 0, result.stderr);
      },
      30_000,
      500,
    );
    const id = `tx-${randomUUID()}`;
    const answer = await request(`${aio.url}/api/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        amount: '12.00',
        currency: 'USD',
        source_account: 'a',
        destination_account: 'b',
      }),
    });
    await answer.body.dump();
    assert.equal(answer.statusCode, 202);
    assert.equal((await client.workflow.getHandle(id).result()).status, 'completed');
    const run = await trace(client, id);
    assert.equal(run.buildId, 'a1');
    assert.equal(run.behavior, VERSIONING_BEHAVIOR_PINNED);
    const metrics = await (await request(`${aio.url}/metrics`)).body.text();
    assert.match(metrics, /^txflow_api_workflow_starts_total\{eager="true"\} 0$/m);
    assert.match(metrics, /^txflow_api_workflow_starts_total\{eager="false"\} 1$/m);

    // Leaving versioning: new runs go back to unversioned workers.
    const left = await deployment('set-current', '--unversioned', '--name', aioDeployment);
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stdout, /current \(unversioned workers\) \(was a1\)/);
    assert.match(left.stdout, /^\s+a1\s+(draining|drained)\s+0$/m, left.stdout);
  });
});
