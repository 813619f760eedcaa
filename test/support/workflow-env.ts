import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ProcessingPolicy, Transaction } from '../../src/domain/transaction';
import { processTransaction } from '../../src/workflows';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './harness';
import { startMock, type RunningMock } from './mock-server';
import { uniqueTaskQueue } from './temporal';

export interface WorkflowEnv {
  client: Client;
  mock: RunningMock;
  worker: RunningWorker;
  taskQueue: string;
  /** Starts the transaction's workflow on this queue, its ID the workflow ID, under `policy` (default fastPolicy()). */
  start(
    transaction: Transaction,
    policy?: ProcessingPolicy,
  ): Promise<WorkflowHandle<typeof processTransaction>>;
}

type WorkerOptions = Omit<Parameters<typeof startWorker>[0], 'taskQueue' | 'postingUrl'>;

/**
 * Registers before/after hooks in the calling describe(): the test client, a mock and a real worker on a task
 * queue of its own (named after `queuePrefix`) posting to that mock, with `worker`'s options. The fields are set
 * once before() has run.
 */
export function useWorkflowEnv(options: {
  queuePrefix: string;
  worker?: WorkerOptions;
  /** Sees each request before the mock (startMock's onRequest). */
  onRequest?: Parameters<typeof startMock>[1];
}): WorkflowEnv {
  const env = {} as WorkflowEnv;
  env.start = (transaction: Transaction, policy = fastPolicy()) =>
    env.client.workflow.start(processTransaction, {
      taskQueue: env.taskQueue,
      workflowId: transaction.id,
      args: [{ transaction, policy }],
    });
  before(async function () {
    env.client = await testClient();
    env.mock = await startMock({}, options.onRequest);
    env.taskQueue = uniqueTaskQueue(options.queuePrefix);
    env.worker = await startWorker({ ...options.worker, taskQueue: env.taskQueue, postingUrl: env.mock.url });
  });
  after(async function () {
    await env.worker?.stop();
    await env.mock?.stop();
  });
  return env;
}
