import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fetch } from 'undici';
import type { CallbackPolicy } from '../../src/domain/callbacks';
import type { ProcessingPolicy } from '../../src/domain/transaction';
import { CallbackReceiver } from './callback-receiver';
import { testApp } from './api';
import { fastPolicy, startWorker, testClient, type RunningWorker } from './harness';
import { startMock, type RunningMock } from './mock-server';
import { uniqueTaskQueue } from './temporal';

/** Parsed JSON answers, read field by field by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const SECRET = 'test-signing-secret-0123456789';

/** Retries in hundreds of milliseconds, a 1 s timeout per attempt and a minute's window. */
export const FAST_CALLBACKS: CallbackPolicy = {
  windowMs: 60_000,
  timeoutMs: 1_000,
  initialIntervalMs: 200,
  maxIntervalMs: 1_000,
};

export interface CallbackStack {
  base: string;
  taskQueue: string;
  receiver: CallbackReceiver;
  mock: RunningMock;
  worker: RunningWorker | undefined;
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  stop(): Promise<void>;
}

/**
 * The mock downstream, a callback receiver process (its host allowed over http), and the real API and worker
 * with a signing secret; `subscribers` go to every transaction. `worker: false` leaves starting one to the test.
 */
export async function startCallbackStack(
  options: {
    subscribers?: (receiver: CallbackReceiver) => string[];
    worker?: boolean;
    policy?: ProcessingPolicy;
    callbackPolicy?: Partial<CallbackPolicy>;
  } = {},
): Promise<CallbackStack> {
  const mock = await startMock();
  const receiver = await CallbackReceiver.start(SECRET);
  const taskQueue = uniqueTaskQueue('callbacks');
  const allowedHosts = [`127.0.0.1:${receiver.port}`];
  const worker =
    options.worker === false
      ? undefined
      : await startWorker({
          taskQueue,
          postingUrl: mock.url,
          callbacks: { signingSecret: SECRET, allowedHosts },
        });
  const app = testApp(
    await testClient(),
    taskQueue,
    options.policy ?? fastPolicy({ deadlineMs: 5_000 }),
    { callbacks: { enabled: true, allowedHosts } },
    {},
    {
      callbacks: {
        subscribers: options.subscribers?.(receiver) ?? [],
        policy: { ...FAST_CALLBACKS, ...options.callbackPolicy },
      },
    },
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stack: CallbackStack = {
    base,
    taskQueue,
    receiver,
    mock,
    worker,
    async call(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await stack.worker?.stop();
      await receiver.off();
      await mock.stop();
    },
  };
  return stack;
}
