import assert from 'node:assert/strict';
import { PostingRateService } from '../src/api/admin/posting-rate';
import { createLogger } from '../src/config/logger';
import type { ProcessingState, Transaction } from '../src/domain/transaction';
import { RateCapWatch } from '../src/worker/rate-cap-watch';
import { NativeConnection } from '@temporalio/worker';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, startWorker, testClient } from './support/harness';
import { serverWork } from './support/server-work';
import { useWorkflowEnv } from './support/workflow-env';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

/**
 * The first check as a local activity (policy.checkLocally, decision 0023): the lever that asks the server for
 * less per transaction than two activity tasks. Its rules: it is one try, what gets no answer goes on as an
 * activity task; under a posting rate cap it makes no call at all (the cap counts activity tasks only).
 */
describe('the check as a local activity (real dev server, real worker, mock over HTTP)', function () {
  this.timeout(60_000);
  let capped = false;
  const env = useWorkflowEnv({ queuePrefix: 'local-check', worker: { capInForce: () => capped } });
  beforeEach(function () {
    capped = false;
    env.mock.store.clear();
    env.mock.faults.update({ getFailureRate: 0, getLatencyMs: { min: 0, max: 0 } });
  });

  const start = (tx: Transaction) => env.start(tx, fastPolicy({ checkLocally: true }));

  it('fault-free: one activity task (the POST), two workflow tasks, two upserts; posted once', async function () {
    const tx = newTransaction();
    const handle = await start(tx);
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.equal(state.attempts, 2, 'the local GET and the POST, each counted');
    assert.equal(env.mock.store.copies(tx.id), 1);
    assert.equal(env.mock.store.stats().requests.get, 1);
    const work = await serverWork(handle);
    assert.deepEqual(work.activities, ['postTransaction'], 'the check is no activity task');
    assert.equal(work.markers, 1, 'the check is a marker');
    assert.equal(work.workflowTasks, 2);
    // processing joins the first task's upsert (phase posting); completed the last one.
    assert.equal(work.upserts, 2);
    const described = await handle.describe();
    assert.equal(described.searchAttributes.TxStatus?.[0], 'completed');
  });

  it('under a posting rate cap the local check makes no call: the check goes through the task queue', async function () {
    capped = true;
    const tx = newTransaction();
    const handle = await start(tx);
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.equal(state.attempts, 2, 'the deferral is no attempt');
    assert.equal(state.lastError, null, 'nor an error');
    assert.equal(env.mock.store.stats().requests.get, 1, 'one GET, by the capped activity');
    assert.deepEqual((await serverWork(handle)).activities, ['checkExists', 'postTransaction']);
  });

  it('a local check that gets no answer goes on as an activity task, which retries: posted once', async function () {
    env.mock.faults.update({ getFailureRate: 1 });
    const tx = newTransaction();
    const handle = await start(tx);
    await eventually(async () => {
      assert.ok((await serverWork(handle)).activities.includes('checkExists'), 'the check became a task');
      // While it retries the list shows it processing, not pending.
      assert.equal((await handle.describe()).searchAttributes.TxStatus?.[0], 'processing');
    });
    env.mock.faults.update({ getFailureRate: 0 });
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.ok(state.attempts >= 3, `${state.attempts}: the failed local GET is counted`);
    assert.equal(env.mock.store.copies(tx.id), 1);
  });

  it('a slow GET: the local try gives up after 2 s and the check goes on as a task; meanwhile processing shows', async function () {
    // The status query waits for the first workflow task, which lasts as long as the local try.
    env.mock.faults.update({ getLatencyMs: { min: 4_000, max: 4_000 } });
    const tx = newTransaction();
    const handle = await start(tx);
    await eventually(
      async () => {
        assert.ok((await serverWork(handle)).activities.includes('checkExists'), 'the check became a task');
        assert.equal((await handle.describe()).searchAttributes.TxStatus?.[0], 'processing');
      },
      3_500,
      100,
    );
    env.mock.faults.update({ getLatencyMs: { min: 0, max: 0 } });
    const state: ProcessingState = await handle.result();
    assert.equal(state.outcome, 'posted');
    assert.equal(env.mock.store.copies(tx.id), 1);
  });
});

describe('RateCapWatch reads the task queue cap an operator sets (real dev server)', function () {
  it('no cap, then the operator cap, then none again; a worker cap of its own is always in force', async function () {
    const client = await testClient();
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const taskQueue = uniqueTaskQueue('rate-cap-watch');
    const rate = new PostingRateService({ client, taskQueue, rpcTimeoutMs: 10_000 });
    const log = createLogger('test');
    log.level = 'silent';
    const watch = (ownCap = false) =>
      new RateCapWatch({ connection, namespace: 'default', taskQueue, ownCap, log });
    const inForce = async (w: RateCapWatch) => {
      await w.start();
      w.stop();
      return w.inForce;
    };
    try {
      assert.equal(await inForce(watch()), false);
      assert.equal(await inForce(watch(true)), true);
      await rate.set(5, 'test');
      assert.equal(await inForce(watch()), true);
      await rate.set(null, 'test');
      assert.equal(await inForce(watch()), false);
    } finally {
      await connection.close();
    }
  });

  it("sees another worker's POSTING_MAX_PER_SECOND, and assumes a cap while it cannot read one", async function () {
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const taskQueue = uniqueTaskQueue('rate-cap-watch');
    const log = createLogger('test');
    log.level = 'silent';
    const watch = new RateCapWatch({ connection, namespace: 'default', taskQueue, ownCap: false, log });
    const capped = await startWorker({
      taskQueue,
      postingUrl: 'http://127.0.0.1:1',
      postingMaxPerSecond: 50,
    });
    try {
      await eventually(async () => {
        await watch.start();
        watch.stop();
        assert.equal(watch.inForce, true);
      });
    } finally {
      await capped.stop();
    }
    // An uncapped queue, then the server stops answering (the connection is gone): fail closed.
    const open = new RateCapWatch({
      connection,
      namespace: 'default',
      taskQueue: uniqueTaskQueue('open'),
      ownCap: false,
      log,
    });
    await open.start();
    open.stop();
    assert.equal(open.inForce, false);
    await connection.close();
    await open.start();
    open.stop();
    assert.equal(open.inForce, true);
  });
});
