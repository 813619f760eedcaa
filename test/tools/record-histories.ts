/**
 * Records the workflow histories that test/replay.test.ts replays. Run after a deliberate change to the
 * workflow (and say so in the commit):
 *   TXFLOW_TEST_TEMPORAL_ADDRESS=127.0.0.1:7233 node dist/test/tools/record-histories.js [scenario…]
 * With scenario names, only those (e.g. `callbacks`); without, all.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { deliveryWorkflowId, eventIdOf, type CallbackPlan } from '../../src/domain/callbacks';
import type { ProcessingPolicy, Transaction } from '../../src/domain/transaction';
import { processTransaction } from '../../src/workflows';
import { CallbackReceiver } from '../support/callback-receiver';
import { FAST_CALLBACKS } from '../support/callback-stack';
import { fastPolicy, newTransaction, startWorker, testClient } from '../support/harness';
import { startMock } from '../support/mock-server';
import { uniqueTaskQueue } from '../support/temporal';
import type { FaultPatch } from '../../tools/mock/config';
import type { BreakerOptions } from '../../src/posting/circuit-breaker';

const RECORDING_SECRET = 'a-recording-secret-0123';
const OUT = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'histories');

interface Scenario {
  name: string;
  faults: FaultPatch;
  transaction: Partial<Transaction>;
  /** Announced to a receiver that answers 503 once, then 200: the run's and its delivery's histories. */
  callbacks?: boolean;
  /** A worker with this circuit breaker, and the mock's outage lifted this long after the start. */
  breaker?: { options: BreakerOptions; outageMs: number };
  /** Changes to the test policy (fastPolicy). */
  policy?: Partial<ProcessingPolicy>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'post-write-recovery',
    faults: { postWriteFailureRate: 1, postWriteMode: 'error' },
    transaction: {},
  },
  { name: 'pre-write-retries', faults: { preWriteFailureRate: 0.7, seed: 7 }, transaction: {} },
  { name: 'rejected', faults: {}, transaction: { currency: 'inr' } },
  // The write lands 3 s after the POST, past the worker's 2 s timeout: a write-settle timer, then a look finds it.
  {
    name: 'late-write',
    faults: { lateWriteRate: 1, lateWriteMs: 3_000, idempotency: 'ignore' },
    transaction: {},
  },
  { name: 'callbacks', faults: {}, transaction: {}, callbacks: true },
  // The breaker opens on the check's failures: the run pauses (DownstreamUnhealthy, timers) and resumes after.
  {
    name: 'breaker-pause',
    faults: { outage: true },
    transaction: {},
    breaker: {
      options: { failureRatio: 0.5, windowMs: 5_000, minCalls: 3, probeIntervalMs: 300, maxPauseMs: 1_000 },
      outageMs: 3_000,
    },
  },
  // The check as a local activity (a marker, no activity task), fault-free, and when its GET fails: the check
  // goes on as an activity task that retries.
  { name: 'local-check', faults: {}, transaction: {}, policy: { checkLocally: true } },
  {
    name: 'local-check-fallback',
    faults: { getFailureRate: 0.7, seed: 3 },
    transaction: {},
    policy: { checkLocally: true },
  },
  // The check and the first POST as local activities in the first workflow task (decision 0026), fault-free, and
  // when that POST is answered 503 (nothing written): the post activity looks first, then posts.
  { name: 'local-post', faults: {}, transaction: {}, policy: { checkLocally: true, postLocally: true } },
  {
    name: 'local-post-fallback',
    faults: { preWriteFailureRate: 0.5, seed: 1 },
    transaction: {},
    policy: { checkLocally: true, postLocally: true },
  },
  // A check limited to 5 attempts records the attempt-rounds patch marker before its local try (review of 0026).
  {
    name: 'local-post-check-max-attempts',
    faults: {},
    transaction: {},
    policy: {
      checkLocally: true,
      postLocally: true,
      check: { startToCloseTimeout: 3_000, retry: { initialInterval: 50, maximumAttempts: 5 } },
    },
  },
  // Written, then answered 500: the early look 1 s into a 5 s window finds it and ends the wait.
  {
    name: 'early-look',
    faults: { postWriteFailureRate: 1, postWriteMode: 'error' },
    transaction: {},
    policy: { writeSettleMs: 5_000 },
  },
  // The same with the check and the first POST local: the early look runs locally too (decision 0027).
  {
    name: 'local-early-look',
    faults: { postWriteFailureRate: 1, postWriteMode: 'error' },
    transaction: {},
    policy: { checkLocally: true, postLocally: true, looksLocally: true, writeSettleMs: 5_000 },
  },
];

async function save(name: string, handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  await writeFile(path.join(OUT, `${name}.json`), `${historyToJSON(history)}\n`);
  console.log(`${name}: ${history.events?.length} events`);
}

async function record(scenario: Scenario) {
  const client = await testClient();
  const mock = await startMock(scenario.faults);
  // 503 to the first delivery, 200 after: the delivery's history has a retry.
  const receiver = scenario.callbacks ? await CallbackReceiver.start(RECORDING_SECRET) : undefined;
  receiver?.setFaults({ fail5xx: 1 });
  const taskQueue = uniqueTaskQueue('record');
  const worker = await startWorker({
    taskQueue,
    postingUrl: mock.url,
    ...(scenario.breaker && { breaker: scenario.breaker.options }),
    ...(receiver && {
      callbacks: { signingSecret: RECORDING_SECRET, allowedHosts: [`127.0.0.1:${receiver.port}`] },
    }),
  });
  const outage = scenario.breaker?.outageMs;
  if (outage !== undefined) setTimeout(() => mock.faults.update({ outage: false }), outage);
  const transaction = newTransaction({ id: `replay-${scenario.name}`, ...scenario.transaction });
  const callbacks: CallbackPlan | undefined = receiver && {
    urls: [receiver.url('/hook')],
    dialect: 'api',
    submittedAt: new Date().toISOString(),
    policy: FAST_CALLBACKS,
  };
  const handle = await client.workflow.start(processTransaction, {
    taskQueue,
    workflowId: `${transaction.id}-${Date.now()}`,
    args: [{ transaction, policy: fastPolicy(scenario.policy), ...(callbacks && { callbacks }) }],
  });
  await handle.result().catch(() => undefined);
  await save(scenario.name, handle);
  if (receiver) {
    const eventId = eventIdOf(handle.firstExecutionRunId, 'completed');
    const delivery = client.workflow.getHandle(deliveryWorkflowId(transaction.id, eventId, 0));
    await delivery.result();
    await save(`${scenario.name}-delivery`, delivery);
    await receiver.off();
  }
  await worker.stop();
  await mock.stop();
}

async function main() {
  const only = process.argv.slice(2);
  for (const scenario of SCENARIOS)
    if (only.length === 0 || only.includes(scenario.name)) await record(scenario);
  await (await testClient()).connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
