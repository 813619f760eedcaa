import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  bundleWorkflowCode,
  makeTelemetryFilterString,
  type Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { ActivityPolicy, ProcessingPolicy, Transaction } from '../../src/domain/transaction';
import type { CallbackSenderSettings } from '../../src/activities';
import { createCallbackSender } from '../../src/callbacks/sender';
import { createPostingClient, type PostingClient } from '../../src/posting/posting-client';
import { createTxWorker } from '../../src/worker/create-worker';
import type { IntakeFirstSlots } from '../../src/worker/intake-first-slots';
import { withBreaker } from '../../src/posting/breaker-client';
import type { BreakerOptions } from '../../src/posting/circuit-breaker';
import { workflowsPath } from '../../src/worker/workflow-bundle';
import { testTemporalAddress } from './temporal';

// Quiet SDK logs in tests; must happen before the first NativeConnection or Worker.
try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
} catch {
  // Already installed by another test file.
}

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow bundle, built once per test run and shared by every worker. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
  return bundle;
}

let client: Promise<Client> | undefined;

export function testClient(): Promise<Client> {
  client ??= Connection.connect({ address: testTemporalAddress() }).then(
    (connection) =>
      new Client({ connection, namespace: 'default', workflow: { queryRejectCondition: 'NOT_OPEN' } }),
  );
  return client;
}

const fast = (): ActivityPolicy => ({
  startToCloseTimeout: 3_000,
  retry: { initialInterval: 50, backoffCoefficient: 2, maximumInterval: 400 },
});

/** Retries in tens of milliseconds and a 1 s write-settle window, so fault scenarios finish quickly. */
export function fastPolicy(overrides: Partial<ProcessingPolicy> = {}): ProcessingPolicy {
  return { check: fast(), post: fast(), deadlineMs: 60_000, writeSettleMs: 1_000, ...overrides };
}

export function newTransaction(overrides: Partial<Transaction> = {}): Transaction {
  return {
    id: `tx-${randomUUID()}`,
    amount: '150.50',
    currency: 'INR',
    description: 'test payment',
    timestamp: '2026-11-23T10:00:00.000Z',
    metadata: null,
    sourceAccount: 'acc_a',
    destinationAccount: 'acc_b',
    ...overrides,
  };
}

export interface RunningWorker {
  worker: Worker;
  posting: PostingClient;
  stop(): Promise<void>;
}

/** A real txflow worker on its own task queue, posting over HTTP to `postingUrl`. */
export async function startWorker(opts: {
  taskQueue: string;
  postingUrl: string;
  postingTimeoutMs?: number;
  /** Default Idempotency-Key; null sends no key. */
  idempotencyHeader?: string | null;
  /** Signing secret and allowed hosts for callbacks; unset: the worker cannot send any. */
  callbacks?: CallbackSenderSettings;
  /** POSTING_MAX_PER_SECOND as this worker would have it; unset: none. */
  postingMaxPerSecond?: number;
  /** A circuit breaker in front of the downstream, as the worker process has by default; unset: none. */
  breaker?: BreakerOptions;
  /** Default 429 and 503. */
  notProcessedStatuses?: number[];
  /** Whether a posting rate cap is in force (the worker process reads it: rate-cap-watch.ts); unset: never. */
  capInForce?: () => boolean;
  /** Workflow-task slots that give way to intake; unset: a fixed 50. */
  workflowSlots?: IntakeFirstSlots;
}): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: testTemporalAddress() });
  const plain = createPostingClient({
    baseUrl: opts.postingUrl,
    timeoutMs: opts.postingTimeoutMs ?? 2_000,
    amountFormat: 'number',
    idempotencyHeader: opts.idempotencyHeader === undefined ? 'Idempotency-Key' : opts.idempotencyHeader,
    notProcessedStatuses: opts.notProcessedStatuses ?? [429, 503],
  });
  const { posting, breaker } = opts.breaker
    ? withBreaker(plain, opts.breaker)
    : { posting: plain, breaker: undefined };
  const sender = createCallbackSender(opts.callbacks?.allowedHosts ?? []);
  const worker = await createTxWorker({
    connection,
    namespace: 'default',
    taskQueue: opts.taskQueue,
    posting,
    breaker,
    ...(opts.capInForce && { capInForce: opts.capInForce }),
    ...(opts.workflowSlots && { workflowSlots: opts.workflowSlots }),
    workflowBundle: await workflowBundle(),
    ...(opts.callbacks && { callbacks: { settings: opts.callbacks, sender } }),
    settings: {
      shutdownGraceMs: 1_000,
      maxConcurrentActivities: 100,
      maxConcurrentWorkflowTasks: 50,
      intakeWorkflowTasks: 0,
      maxCachedWorkflows: 500,
      metricsAddress: undefined,
      postingMaxPerSecond: opts.postingMaxPerSecond,
    },
  });
  const running = worker.run();
  return {
    worker,
    posting,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await posting.close();
      await sender.close();
      await connection.close();
    },
  };
}
