import assert from 'node:assert/strict';
import { request } from 'undici';
import { processTransaction } from '../src/workflows';
import type { ManagedProcess } from '../tools/shared/processes';
import { fastPolicy, newTransaction, testClient } from './support/harness';
import { startMock, type RunningMock } from './support/mock-server';
import { startWorkerProcess } from './support/worker-process';
import { uniqueTaskQueue } from './support/temporal';
import { eventually } from './support/eventually';

describe('the worker process (npm run worker)', function () {
  this.timeout(120_000);
  let mock: RunningMock;
  let worker: ManagedProcess;
  let metricsUrl: string;
  let taskQueue: string;

  before(async function () {
    mock = await startMock();
    taskQueue = uniqueTaskQueue('worker-process');
    ({ process: worker, metricsUrl } = await startWorkerProcess(taskQueue, mock.url, 90_000));
  });

  after(async function () {
    await worker?.stop(10_000);
    await mock?.stop();
  });

  it('processes transactions and serves SDK and downstream-outcome metrics for Prometheus', async function () {
    const client = await testClient();
    // Written, then answered too late: an unknown outcome, settled by the look after the window.
    mock.faults.update({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 8_000 });
    const recovered = newTransaction();
    await (
      await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: recovered.id,
        args: [{ transaction: recovered, policy: fastPolicy() }],
      })
    ).result();
    mock.faults.update({ postWriteFailureRate: 0 });
    const posted = newTransaction();
    await (
      await client.workflow.start(processTransaction, {
        taskQueue,
        workflowId: posted.id,
        args: [{ transaction: posted, policy: fastPolicy() }],
      })
    ).result();

    const sample = (text: string, outcome: string) =>
      Number(
        new RegExp(`^txflow_downstream_outcomes\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'm').exec(
          text,
        )?.[1],
      );
    await eventually(async () => {
      const text = await (await request(metricsUrl)).body.text();
      assert.equal(sample(text, 'absent'), 2, text.slice(0, 2000));
      assert.equal(sample(text, 'posted'), 1);
      assert.equal(sample(text, 'unknown'), 1);
      assert.equal(sample(text, 'found'), 1);
      assert.match(text, /^temporal_activity_execution_latency/m, 'the SDK metrics are there too');
    });
  });

  it('stops on SIGTERM with exit code 0', async function () {
    const info = await worker.stop(15_000);
    assert.equal(info.code, 0, `worker ${JSON.stringify(info)}`);
    assert.ok(worker.tail().includes('worker stopped'));
  });
});
