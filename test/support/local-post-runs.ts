import assert from 'node:assert/strict';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Transaction } from '../../src/domain/transaction';
import { processTransaction } from '../../src/workflows';
import { eventually } from './eventually';
import { fastPolicy, newTransaction, testClient } from './harness';
import type { RunningMock } from './mock-server';
import { uniqueTaskQueue } from './temporal';
import { startWorkerProcess, type RunningWorkerProcess } from './worker-process';

export interface LocalPostRun {
  tx: Transaction;
  handle: WorkflowHandleWithFirstExecutionRunId<typeof processTransaction>;
  /** Starts a worker process (`npm run worker`) on the run's task queue. */
  worker(): Promise<RunningWorkerProcess>;
  /** Waits until the mock has the run's first POST, then kills `worker` (SIGKILL) while that POST is in flight. */
  killDuringPost(worker: RunningWorkerProcess): Promise<void>;
}

/**
 * The crash tests of the local POST (decision 0026): a transaction whose first POST may be local, on a task queue
 * of its own with no worker yet, posting to `mock`, with a write-settle window (20 s) that covers the mock's late
 * writes as the rule requires of a deployment. Registers an afterEach in the calling describe() that stops the
 * worker processes and the mock.
 */
export function useLocalPostRuns(prefix: string): { start(mock: RunningMock): Promise<LocalPostRun> } {
  const workers: RunningWorkerProcess[] = [];
  let current: RunningMock | undefined;
  afterEach(async function () {
    for (const w of workers.splice(0)) await w.process.stop(2_000).catch(() => undefined);
    await current?.stop();
    current = undefined;
  });
  return {
    async start(mock) {
      current = mock;
      const client = await testClient();
      const taskQueue = uniqueTaskQueue(prefix);
      const tx = newTransaction();
      const policy = fastPolicy({
        checkLocally: true,
        postLocally: true,
        looksLocally: true,
        writeSettleMs: 20_000,
      });
      const handle = await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: tx.id,
        args: [{ transaction: tx, policy }],
      });
      return {
        tx,
        handle,
        async worker() {
          const started = await startWorkerProcess(taskQueue, mock.url, 60_000);
          workers.push(started);
          return started;
        },
        async killDuringPost(worker) {
          await eventually(() => assert.equal(mock.store.stats().requests.post, 1), 20_000, 10);
          worker.process.kill('SIGKILL');
        },
      };
    },
  };
}
