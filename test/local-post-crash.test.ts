import assert from 'node:assert/strict';
import type { ProcessingState } from '../src/domain/transaction';
import { processTransaction } from '../src/workflows';
import { eventually } from './support/eventually';
import { fastPolicy, newTransaction, testClient } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import { startWorkerProcess, type RunningWorkerProcess } from './support/worker-process';

/**
 * A local POST leaves no record until its workflow task completes (decision 0026). Here its worker is killed
 * (SIGKILL, a real process) while the POST is in flight, and the POST's row lands late, after the caller died.
 * Temporal hands the task, on its second try, to another worker, which knows nothing of the first POST: it must not
 * post blind, but treat that POST's outcome as unknown (wait the write-settle window, look first).
 */
describe('a worker killed during its local POST (real worker processes, late write)', function () {
  this.timeout(120_000);
  let mock: RunningMock;
  const workers: RunningWorkerProcess[] = [];
  after(async function () {
    for (const w of workers) await w.process.stop(2_000).catch(() => undefined);
    await mock?.stop();
  });

  it('the next worker sends nothing blind: it waits, finds the late write, posted once', async function () {
    // Every POST's row lands 12 s after it arrived, whether or not its caller is still there.
    mock = await startMock({ lateWriteRate: 1, lateWriteMs: 12_000 });
    const client = await testClient();
    const taskQueue = uniqueTaskQueue('local-post-crash');
    const first = await startWorkerProcess(taskQueue, mock.url, 60_000);
    workers.push(first);
    const tx = newTransaction();
    const handle = await client.workflow.start(processTransaction, {
      taskQueue,
      workflowId: tx.id,
      args: [
        {
          transaction: tx,
          // The window covers the late write, as the write-settle rule requires of a deployment.
          policy: fastPolicy({ checkLocally: true, postLocally: true, writeSettleMs: 20_000 }),
        },
      ],
    });
    await eventually(() => assert.equal(mock.store.stats().requests.post, 1), 20_000, 10);
    first.process.kill('SIGKILL');
    assert.equal(mock.store.copies(tx.id), 0, 'not written yet');

    // The first workflow task times out (10 s) and its second try goes to this worker.
    workers.push(await startWorkerProcess(taskQueue, mock.url, 60_000));
    const state: ProcessingState = await handle.result();
    assert.equal(state.status, 'completed');
    assert.equal(state.outcome, 'already_present', 'found by a look, not posted again');
    assert.equal(mock.store.stats().requests.post, 1, "one POST: the killed worker's");
    assert.equal(mock.store.copies(tx.id), 1);
    const events = (await handle.fetchHistory()).events ?? [];
    assert.ok(
      events.some((e) => e.workflowTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes),
      'the first try of the first workflow task did not complete',
    );
  });
});
