import assert from 'node:assert/strict';
import { ConfigError } from '../src/config/env';
import { stackSettings, WORKER_METRICS_PORT } from '../tools/stack/stack-config';

describe("npm start's settings: the worker's metrics endpoint", function () {
  it('is on by default, on loopback at the fixed port; WORKER_METRICS_ADDRESS wins', function () {
    assert.deepEqual(stackSettings({}).workerMetrics, {
      address: `127.0.0.1:${WORKER_METRICS_PORT}`,
      host: '127.0.0.1',
      port: WORKER_METRICS_PORT,
      url: `http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`,
    });
    assert.deepEqual(stackSettings({ WORKER_METRICS_ADDRESS: '127.0.0.1:9999' }).workerMetrics, {
      address: '127.0.0.1:9999',
      host: '127.0.0.1',
      port: 9999,
      url: 'http://127.0.0.1:9999/metrics',
    });
    // Every interface: the banner points at loopback, the worker still binds what was asked.
    const all = stackSettings({ WORKER_METRICS_ADDRESS: '0.0.0.0:9465' }).workerMetrics;
    assert.deepEqual([all.address, all.url], ['0.0.0.0:9465', 'http://127.0.0.1:9465/metrics']);
  });

  it('refuses a bad WORKER_METRICS_ADDRESS before starting anything, naming it', function () {
    assert.throws(
      () => stackSettings({ WORKER_METRICS_ADDRESS: '9464' }),
      (err: unknown) => err instanceof ConfigError && /WORKER_METRICS_ADDRESS/.test(err.message),
    );
  });
});
