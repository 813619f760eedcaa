// Review of issue 16 (decision 0026): a worker is SIGKILLed while its local POST is in flight (the row lands 12 s later). A cancel (the API's update,
// or a plain workflow cancel request: Web UI, CLI, the API's fallback) reaches the run before the first workflow
// task's second try. Expected: the run never says `cancelled` about a transaction the downstream holds.
import assert from 'node:assert/strict';
import type { ProcessingState } from '../src/domain/transaction';
import { processTransaction } from '../src/workflows';
import { cancelUpdate } from '../src/workflows/updates';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, testClient } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import { startWorkerProcess, type RunningWorkerProcess } from './support/worker-process';

describe('a cancel after a worker died during its local POST', function () {
  this.timeout(120_000);
  let mock: RunningMock;
  const workers: RunningWorkerProcess[] = [];
  afterEach(async function () {
    for (const w of workers.splice(0)) await w.process.stop(2_000).catch(() => undefined);
    await mock?.stop();
  });

  for (const how of ['update', 'workflow cancel'] as const) {
    it(`(${how}) is refused: the first POST may have been sent`, async function () {
      mock = await startMock({ lateWriteRate: 1, lateWriteMs: 12_000 });
      const client = await testClient();
      const taskQueue = uniqueTaskQueue('local-post-cancel');
      const first = await startWorkerProcess(taskQueue, mock.url, 60_000);
      workers.push(first);
      const tx = newTransaction();
      const handle = await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: tx.id,
        args: [
          {
            transaction: tx,
            policy: fastPolicy({ checkLocally: true, postLocally: true, writeSettleMs: 20_000 }),
          },
        ],
      });
      await eventually(() => assert.equal(mock.store.stats().requests.post, 1), 20_000, 10);
      first.process.kill('SIGKILL');
      // Admitted (update) or buffered (cancel request) while the first task's first try is still "started".
      const cancelled =
        how === 'update'
          ? handle.executeUpdate(cancelUpdate, { updateId: 'cancel' }).catch((e: unknown) => e)
          : handle.cancel();
      workers.push(await startWorkerProcess(taskQueue, mock.url, 60_000));
      const state: ProcessingState = await handle.result();
      const answer = await cancelled;
      if (how === 'update')
        assert.ok(
          answer instanceof Error || (answer as ProcessingState).status !== 'cancelled',
          'not cancelled',
        );
      await eventually(() => assert.equal(mock.store.copies(tx.id), 1), 20_000, 100);
      // Without the fix: `cancelled` (the second try's check was cancelled), while the downstream holds the row.
      assert.equal(state.status, 'completed');
      assert.equal(state.outcome, 'already_present');
      assert.equal(mock.store.stats().requests.post, 1);
    });
  }
});
