import assert from 'node:assert/strict';
import { oneMachineWorkerEnv } from '../tools/shared/one-machine';
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
    ]);
  });
});
