import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { ManagedProcess } from '../tools/shared/processes';
import { eventually } from './support/eventually';
import { SECRET, startCallbackStack, type CallbackStack } from './support/callback-stack';
import { startWorkerProcess } from './support/worker-process';

describe('callbacks survive a worker killed mid-delivery, and go to subscribers', function () {
  this.timeout(240_000);
  let stack: CallbackStack;
  let worker: ManagedProcess | undefined;
  let metricsUrl = '';
  const startWorker = async () => {
    const started = await startWorkerProcess(stack.taskQueue, stack.mock.url, 120_000, {
      CALLBACK_SIGNING_SECRET: SECRET,
      CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${stack.receiver.port}`,
    });
    metricsUrl = started.metricsUrl;
    return started.process;
  };

  before(async function () {
    // Attempts wait 20 s for an answer: the hung one is still in flight when the worker is killed.
    stack = await startCallbackStack({
      worker: false,
      subscribers: (r) => [r.url('/subscriber')],
      callbackPolicy: { timeoutMs: 20_000 },
    });
  });
  after(async function () {
    await worker?.stop(10_000);
    await stack?.stop();
  });

  it('a worker killed while its POST is in flight: the next worker delivers, once per endpoint', async function () {
    worker = await startWorker();
    // The first delivery hangs: the worker is killed while it waits for the answer.
    stack.receiver.setFaults({ hang: 1 });
    const id = `cb-${randomUUID()}`;
    const res = await stack.call('POST', '/api/transactions', {
      id,
      amount: '5.00',
      currency: 'EUR',
      callback_url: stack.receiver.url('/client'),
    });
    assert.equal(res.status, 202);
    // One endpoint hangs, the other is delivered. Killed only once that delivery is recorded: a worker killed
    // between a receiver's 200 and its report to Temporal sends it again (at least once; the ID deduplicates).
    await eventually(async () => {
      assert.ok(stack.receiver.deliveries.some((d) => d.answered === 'hang'));
      const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
      assert.ok(log.items[0]?.deliveries.some((d: { state: string }) => d.state === 'delivered'));
    }, 60_000);
    worker.kill('SIGKILL');
    await worker.exited;
    const hung = stack.receiver.deliveries.find((d) => d.answered === 'hang');
    assert.equal(stack.receiver.delivered().length, 1, 'the hung one is not delivered yet');
    worker = await startWorker();
    const ofThis = () =>
      stack.receiver.delivered().filter((d) => JSON.parse(d.body).data.transactionId === id);
    await eventually(() => assert.equal(ofThis().length, 2), 90_000);
    // One delivery per endpoint: the client's URL and the subscriber's, each verified, the same event.
    assert.deepEqual(
      ofThis()
        .map((d) => d.path)
        .sort(),
      ['/client', '/subscriber'],
    );
    assert.ok(ofThis().every((d) => d.verified && d.eventId === hung?.eventId));
    // The log shows both delivered once their runs have closed: the client's URL in full, the operator's
    // subscriber without its address.
    type Delivery = { endpoint: number; state: string; target: string; url: string | null };
    await eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
      assert.deepEqual(
        log.items[0].deliveries.map((d: Delivery) => [d.endpoint, d.state, d.target, d.url]),
        [
          [0, 'delivered', 'callback_url', stack.receiver.url('/client')],
          [1, 'delivered', 'subscriber', null],
        ],
      );
    });
    // The worker that delivered counts the deliveries by outcome (the killed one took its counts along).
    const text = await (await request(metricsUrl)).body.text();
    const sample = (name: string, outcome: string) =>
      Number(new RegExp(`^${name}\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    assert.ok(sample('txflow_callback_deliveries', 'delivered') >= 1, text.slice(0, 1500));
    assert.ok(sample('txflow_callback_attempts', 'delivered') >= 1);
  });
});
