import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createCallbackActivities } from '../src/activities';
import { createPostingActivities } from '../src/activities/posting-activities';
import { createCallbackSender } from '../src/callbacks/sender';
import type { Transaction } from '../src/domain/transaction';
import { createPostingClient } from '../src/posting/posting-client';
import { processTransaction } from '../src/workflows';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, testClient, workflowBundle } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

/** The post activity's start-to-close timeout here, and the margin attemptTimeLeft keeps from it (20%). */
const ATTEMPT_MS = 3_000;
/**
 * How long the worker takes from receiving the first post task to starting the activity function: a worker
 * stalled for longer than the attempt (a blocked event loop, a long GC, a frozen process or VM).
 */
const STALL_MS = 4_000;
/** The downstream takes this long to store a POST (it answers within the attempt's time left). */
const POST_LATENCY_MS = 2_000;

/**
 * Review of issue 15 (attemptTimeLeft counted from the function's start since the rate cap). The server's
 * start-to-close clock runs from when it handed the task out; a worker that starts the function late cannot see
 * that. Before, the bound was also the attempt's scheduled time plus its timeout (never later than the server's
 * clock), so a stalled attempt refused to POST. Now it POSTs after the server already timed the attempt out; the
 * workflow waits the write-settle window from the timeout, looks while that POST is still being written, and posts
 * again: two rows at a downstream that does not deduplicate.
 */
describe('review15: a post attempt that starts after the server timed it out must not POST', function () {
  this.timeout(90_000);
  let client: Client;
  let mock: RunningMock;
  let worker: Worker;
  let running: Promise<void>;
  let connection: NativeConnection;
  const stalled = new Set<string>();

  before(async function () {
    client = await testClient();
    // A downstream that ignores Idempotency-Key (and the client sends none): only the protocol prevents a duplicate.
    mock = await startMock({
      idempotency: 'ignore',
      postLatencyMs: { min: POST_LATENCY_MS, max: POST_LATENCY_MS },
    });
    connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const posting = createPostingClient({
      baseUrl: mock.url,
      timeoutMs: 10_000,
      amountFormat: 'number',
      idempotencyHeader: null,
      notProcessedStatuses: [429, 503],
    });
    const activities = createPostingActivities(posting);
    worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: uniqueTaskQueue('review15-attempt-time'),
      workflowBundle: await workflowBundle(),
      activities: {
        ...activities,
        ...createCallbackActivities({ signingSecret: undefined, allowedHosts: [] }, createCallbackSender([])),
        // The worker's stall between the server handing out the first post task and the function starting.
        postTransaction: async (transaction: Transaction) => {
          if (!stalled.has(transaction.id)) {
            stalled.add(transaction.id);
            await sleep(STALL_MS);
          }
          return activities.postTransaction(transaction);
        },
      },
      maxEagerActivityReservationsPerWorkflowTask: 0,
    });
    running = worker.run();
  });

  after(async function () {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection?.close();
    await mock?.stop();
  });

  it('posts the transaction exactly once', async function () {
    const tx = newTransaction();
    const policy = fastPolicy({
      post: {
        startToCloseTimeout: ATTEMPT_MS,
        retry: { initialInterval: 50, backoffCoefficient: 2, maximumInterval: 400 },
      },
    });
    const handle = await client.workflow.start(processTransaction, {
      taskQueue: worker.options.taskQueue,
      workflowId: tx.id,
      args: [{ transaction: tx, policy }],
    });
    const state = await handle.result();
    assert.equal(state.status, 'completed');
    // Let the stalled attempt's POST finish (it answers within its time left).
    await eventually(async () => assert.ok(stalled.has(tx.id)), 5_000, 100);
    await sleep(STALL_MS + POST_LATENCY_MS);
    assert.equal(mock.store.copies(tx.id), 1, `stored ${mock.store.copies(tx.id)} times`);
  });
});
