import assert from 'node:assert/strict';
import { oneMachineWorkerEnv, stackProcessEnv } from '../tools/shared/one-machine';
import { workerSettings } from '../src/config/worker';

describe('one-machine worker slots (npm start and the bench, beside their dev server)', function () {
  it('gives fewer slots than the defaults, valid for the worker, and a value in the environment wins', function () {
    const slots = oneMachineWorkerEnv({});
    const settings = workerSettings({ ...slots, POSTING_SERVICE_URL: 'http://127.0.0.1:8080' });
    const defaults = workerSettings({ POSTING_SERVICE_URL: 'http://127.0.0.1:8080' });
    assert.ok(settings.maxConcurrentWorkflowTasks < defaults.maxConcurrentWorkflowTasks);
    assert.ok(settings.maxConcurrentActivities < defaults.maxConcurrentActivities);
    assert.deepEqual(Object.keys(oneMachineWorkerEnv({ WORKER_MAX_CONCURRENT_ACTIVITIES: '50' })), [
      'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
      'TXFLOW_NICE',
    ]);
  });

  it('nices a worker of its own, not an all-in-one (its API would be niced with it)', function () {
    assert.equal(oneMachineWorkerEnv({}).TXFLOW_NICE, '10');
    assert.equal(oneMachineWorkerEnv({}, { niced: false }).TXFLOW_NICE, undefined);
    assert.equal(oneMachineWorkerEnv({ TXFLOW_NICE: '' }).TXFLOW_NICE, undefined, 'an empty value wins too');
  });

  it('npm start: beside its own dev server, the worker niced and the API not; with an external server, nothing', function () {
    const own = stackProcessEnv(true, {});
    assert.equal(own.worker.TXFLOW_NICE, '10');
    assert.equal(own.worker.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, '16');
    assert.equal(own.others.TXFLOW_NICE, undefined, 'the API and the all-in-one run at normal priority');
    assert.equal(own.others.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, '16', 'the all-in-one gets the slots');
    assert.deepEqual(stackProcessEnv(false, {}), { worker: {}, others: {} });
  });
});
