// The worker's callback counters as an operator scrapes them (a real worker process, WORKER_METRICS_ADDRESS):
// each way a delivery can end besides `delivered` (callbacks-worker.test.ts) is counted, once per delivery.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { callbackSettings } from '../src/config/callbacks';
import type { ManagedProcess } from '../tools/shared/processes';
import { eventually } from './support/eventually';
import { SECRET, startCallbackStack, type CallbackStack } from './support/callback-stack';
import { startWorkerProcess } from './support/worker-process';

/** The sum of a counter's series with that outcome label (one series per task queue, namespace…). */
function sample(text: string, name: string, outcome: string): number {
  const series = new RegExp(`^${name}\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'gm');
  return [...text.matchAll(series)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe("callbacks: the worker's /metrics counts deliveries stopped by a 410 and given up", function () {
  this.timeout(180_000);
  let stack: CallbackStack;
  let worker: ManagedProcess | undefined;
  let metricsUrl = '';
  const scrape = async () => (await request(metricsUrl)).body.text();

  before(async function () {
    // A 3 s retry window, as CALLBACK_RETRY_WINDOW_MS=3000 makes it: a failing receiver is given up on quickly.
    const { policy } = callbackSettings({ CALLBACK_RETRY_WINDOW_MS: '3000', CALLBACK_TIMEOUT_MS: '1000' });
    stack = await startCallbackStack({ worker: false, callbackPolicy: policy });
    const started = await startWorkerProcess(stack.taskQueue, stack.mock.url, 120_000, {
      CALLBACK_SIGNING_SECRET: SECRET,
      CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${stack.receiver.port}`,
    });
    worker = started.process;
    metricsUrl = started.metricsUrl;
  });
  after(async function () {
    await worker?.stop(10_000);
    await stack?.stop();
  });

  /** Submits with the receiver's URL and waits until the delivery log shows `state`. */
  async function deliveryEnding(state: string) {
    const id = `cb-metrics-${randomUUID()}`;
    const res = await stack.call('POST', '/api/transactions', {
      id,
      amount: '2.00',
      currency: 'EUR',
      callback_url: stack.receiver.url('/metrics'),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return eventually(async () => {
      const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
      assert.equal(log.items[0]?.deliveries[0]?.state, state, JSON.stringify(log));
      return log.items[0].deliveries[0];
    }, 60_000);
  }

  it('a 410: txflow_callback_deliveries{outcome="stopped_by_410"} +1 and one attempt counted gone', async function () {
    const before = await scrape();
    stack.receiver.setFaults({ gone: true });
    const delivery = await deliveryEnding('stopped_by_410');
    assert.equal(delivery.attempts, 1);
    // The counter is reported when the delivery's workflow task completes: by now, or a moment later.
    await eventually(async () => {
      const after = await scrape();
      const delta = (name: string, outcome: string) =>
        sample(after, name, outcome) - sample(before, name, outcome);
      assert.equal(delta('txflow_callback_deliveries', 'stopped_by_410'), 1, after.slice(0, 2000));
      assert.equal(delta('txflow_callback_attempts', 'gone'), 1);
      assert.equal(delta('txflow_callback_deliveries', 'gave_up'), 0);
      assert.equal(delta('txflow_callback_deliveries', 'delivered'), 0);
    });
  });

  it('a receiver failing past the window: txflow_callback_deliveries{outcome="gave_up"} +1, each attempt counted', async function () {
    const before = await scrape();
    stack.receiver.setFaults({ fail5xx: 1_000 });
    const delivery = await deliveryEnding('gave_up');
    assert.ok(delivery.attempts >= 2, JSON.stringify(delivery));
    assert.equal(delivery.last_status, 503);
    await eventually(async () => {
      const after = await scrape();
      const delta = (name: string, outcome: string) =>
        sample(after, name, outcome) - sample(before, name, outcome);
      assert.equal(delta('txflow_callback_deliveries', 'gave_up'), 1, after.slice(0, 2000));
      assert.equal(delta('txflow_callback_deliveries', 'stopped_by_410'), 0);
      assert.equal(delta('txflow_callback_deliveries', 'delivered'), 0);
      // Every 503 the receiver gave is one http_error attempt.
      const answered = stack.receiver.deliveries.filter((d) => d.path === '/metrics' && d.answered === 503);
      assert.equal(delta('txflow_callback_attempts', 'http_error'), answered.length);
      assert.ok(answered.length >= 2);
    });
  });
});
