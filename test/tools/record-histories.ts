/**
 * Records the workflow histories that test/replay.test.ts replays. Run after a deliberate change to the
 * workflow (and say so in the commit):
 *   TXFLOW_TEST_TEMPORAL_ADDRESS=127.0.0.1:7233 node dist/test/tools/record-histories.js
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Transaction } from '../../src/domain/transaction';
import { processTransaction } from '../../src/workflows';
import { fastPolicy, newTransaction, startWorker, testClient } from '../support/harness';
import { startMock } from '../support/mock-server';
import { uniqueTaskQueue } from '../support/temporal';
import type { FaultPatch } from '../../tools/mock/config';
import type { BreakerOptions } from '../../src/posting/circuit-breaker';

const OUT = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'histories');

interface RecordedScenario {
  name: string;
  faults: FaultPatch;
  transaction: Partial<Transaction>;
  /** A worker with this circuit breaker, and the mock's outage lifted this long after the start. */
  breaker?: { options: BreakerOptions; outageMs: number };
}

const SCENARIOS: RecordedScenario[] = [
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
];

async function main() {
  const client = await testClient();
  for (const scenario of SCENARIOS) {
    const mock = await startMock(scenario.faults);
    const taskQueue = uniqueTaskQueue('record');
    const worker = await startWorker({
      taskQueue,
      postingUrl: mock.url,
      ...(scenario.breaker && { breaker: scenario.breaker.options }),
    });
    const outage = scenario.breaker?.outageMs;
    if (outage !== undefined) setTimeout(() => mock.faults.update({ outage: false }), outage);
    const transaction = newTransaction({ id: `replay-${scenario.name}`, ...scenario.transaction });
    const handle = await client.workflow.start(processTransaction, {
      taskQueue,
      workflowId: `${transaction.id}-${Date.now()}`,
      args: [{ transaction, policy: fastPolicy() }],
    });
    await handle.result().catch(() => undefined);
    const history = await handle.fetchHistory();
    await writeFile(path.join(OUT, `${scenario.name}.json`), `${historyToJSON(history)}\n`);
    console.log(`${scenario.name}: ${history.events?.length} events`);
    await worker.stop();
    await mock.stop();
  }
  await client.connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
