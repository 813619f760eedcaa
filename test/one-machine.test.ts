import assert from 'node:assert/strict';
import { oneMachineWorkerEnv, stackProcessEnv } from '../tools/shared/one-machine';
import { workerSettings } from '../src/config/worker';

describe('one-machine worker settings (npm start and the bench, beside their dev server)', function () {
  it('gives fewer slots than the defaults, valid for the worker, and a value in the environment wins', function () {
    const slots = oneMachineWorkerEnv({});
    const settings = workerSettings({ ...slots, POSTING_SERVICE_URL: 'http://127.0.0.1:8080' });
    const defaults = workerSettings({ POSTING_SERVICE_URL: 'http://127.0.0.1:8080' });
    assert.ok(settings.maxConcurrentWorkflowTasks < defaults.maxConcurrentWorkflowTasks);
    assert.ok(settings.maxConcurrentActivities < defaults.maxConcurrentActivities);
    assert.equal(defaults.intakeWorkflowTasks, 0, 'a deployment takes every slot throughout');
    assert.equal(settings.intakeWorkflowTasks, 4, 'one machine: 4 while intake outpaces the worker');
    assert.deepEqual(oneMachineWorkerEnv({ WORKER_MAX_CONCURRENT_ACTIVITIES: '50', TXFLOW_NICE: '5' }), {
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '16',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '50',
      WORKER_INTAKE_WORKFLOW_TASKS: '4',
      TXFLOW_NICE: '5',
    });
  });

  it('gives way to intake with 4 slots, never more than the max, and not in the all-in-one', function () {
    assert.equal(oneMachineWorkerEnv({}).WORKER_INTAKE_WORKFLOW_TASKS, '4');
    const three = oneMachineWorkerEnv({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '3' });
    assert.equal(three.WORKER_INTAKE_WORKFLOW_TASKS, '3');
    assert.equal(
      workerSettings({ ...three, POSTING_SERVICE_URL: 'http://127.0.0.1:8080' }).intakeWorkflowTasks,
      3,
    );
    assert.equal(oneMachineWorkerEnv({}, { niced: false, allInOne: true }).WORKER_INTAKE_WORKFLOW_TASKS, '0');
    assert.equal(stackProcessEnv(true, {}).others.WORKER_INTAKE_WORKFLOW_TASKS, '0');
    assert.equal(
      oneMachineWorkerEnv({ WORKER_INTAKE_WORKFLOW_TASKS: '0' }).WORKER_INTAKE_WORKFLOW_TASKS,
      '0',
    );
  });

  it('nices a worker of its own, and explicitly not an all-in-one (its API would be niced with it)', function () {
    assert.equal(oneMachineWorkerEnv({}).TXFLOW_NICE, '10');
    assert.equal(oneMachineWorkerEnv({ TXFLOW_NICE: '' }).TXFLOW_NICE, '', 'an empty value wins too');
    assert.equal(oneMachineWorkerEnv({ TXFLOW_NICE: '10' }, { niced: false }).TXFLOW_NICE, '');
  });

  it('npm start: only the worker is ever niced, whatever TXFLOW_NICE it inherits', function () {
    const own = stackProcessEnv(true, { TXFLOW_NICE: '7' });
    assert.equal(own.worker.TXFLOW_NICE, '7');
    assert.equal(stackProcessEnv(true, {}).worker.TXFLOW_NICE, '10');
    assert.equal(own.worker.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, '16');
    assert.equal(own.others.TXFLOW_NICE, '', 'the API and the all-in-one run as started');
    assert.equal(own.others.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, '16', 'the all-in-one gets the slots');
    // An external Temporal: no one-machine settings; a TXFLOW_NICE given is the worker's alone.
    assert.deepEqual(stackProcessEnv(false, {}), { worker: {}, others: { TXFLOW_NICE: '' } });
    assert.deepEqual(stackProcessEnv(false, { TXFLOW_NICE: '3' }), {
      worker: { TXFLOW_NICE: '3' },
      others: { TXFLOW_NICE: '' },
    });
  });
});
