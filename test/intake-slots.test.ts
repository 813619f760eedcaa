import assert from 'node:assert/strict';
import { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../src/config/logger';
import { workerSettings } from '../src/config/worker';
import { IntakeFirstSlots } from '../src/worker/intake-first-slots';
import { IntakeWatch, type IntakeWatchDeps } from '../src/worker/intake-watch';
import { newTransaction, testClient } from './support/harness';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { useWorkflowEnv } from './support/workflow-env';

/**
 * Workflow-task slots that give way to intake (decision 0030): while new workflows arrive faster than the worker
 * takes them, it holds only a few slots, so the server's work goes to the starts that clients wait for.
 */
const silent = createLogger('test');
silent.level = 'silent';
const ctx = {} as never;

/** Counts what the worker asked of the supplier, and the most slots it held while intake was on. */
class CountingSlots extends IntakeFirstSlots {
  reserved = 0;
  peakDuringIntake = 0;
  override async reserveSlot(c: never, abort: AbortSignal) {
    const permit = await super.reserveSlot(c, abort);
    this.reserved++;
    if (this.intake) this.peakDuringIntake = Math.max(this.peakDuringIntake, this.used);
    return permit;
  }
}

describe('IntakeFirstSlots: all slots while the worker keeps up, a few while intake outpaces it', () => {
  it('hands out the max, then only the intake limit; a held slot is not taken back; a release wakes a waiter', async () => {
    const slots = new IntakeFirstSlots(3, 1);
    const never = new AbortController().signal;
    for (let i = 0; i < 3; i++) await slots.reserveSlot(ctx, never);
    assert.equal(slots.tryReserveSlot(), null, 'no fourth slot');
    slots.intake = true;
    assert.equal(slots.limit, 1);
    assert.equal(slots.used, 3, 'held slots stay held');
    let got = false;
    const waiting = slots.reserveSlot(ctx, never).then(() => (got = true));
    for (const _ of [1, 2]) slots.releaseSlot();
    await new Promise((r) => setImmediate(r));
    assert.equal(got, false, 'one slot held: at the intake limit');
    slots.releaseSlot();
    await waiting;
    assert.equal(slots.used, 1);
    slots.intake = false;
    assert.deepEqual(slots.tryReserveSlot(), {}, 'intake over: the max again');
    assert.equal(slots.used, 2);
  });

  it('an aborted reservation rejects with the abort reason and takes no slot', async () => {
    const slots = new IntakeFirstSlots(1, 1);
    await slots.reserveSlot(ctx, new AbortController().signal);
    const abort = new AbortController();
    const waiting = slots.reserveSlot(ctx, abort.signal);
    abort.abort(new Error('poll no longer needed'));
    await assert.rejects(waiting, /poll no longer needed/);
    slots.releaseSlot();
    assert.equal(slots.used, 0);
  });
});

describe('IntakeWatch: intake is a growing backlog, and giving way is bounded', () => {
  const watchWith = (overrides: Partial<IntakeWatchDeps> = {}) => {
    const changes: boolean[] = [];
    let now = 0;
    const watch = new IntakeWatch({
      connection: undefined as never,
      namespace: 'default',
      taskQueue: 'unused',
      onChange: (on) => changes.push(on),
      now: () => now,
      log: silent,
      ...overrides,
    });
    const at = (ms: number, backlog: number) => {
      now = ms;
      watch.observe(backlog);
    };
    return { watch, changes, at };
  };

  it('growth since the last reading means intake; two readings without growth end it', () => {
    const { changes, at } = watchWith();
    at(0, 50);
    assert.deepEqual(changes, [], 'a first reading is no growth');
    at(200, 60);
    assert.deepEqual(changes, [true]);
    at(400, 60);
    assert.deepEqual(changes, [true], 'one quiet reading is not the end');
    at(600, 40);
    assert.deepEqual(changes, [true, false]);
  });

  it('intake longer than maxDeferMs is an overload: every slot until the backlog is empty, then bursts again', () => {
    const { changes, at } = watchWith({ maxDeferMs: 1_000 });
    at(0, 0);
    at(200, 10);
    for (let t = 400; t <= 1_200; t += 200) at(t, t / 10);
    assert.deepEqual(changes, [true]);
    at(1_400, 200);
    assert.deepEqual(changes, [true, false], 'deferred for longer than 1 s');
    at(1_600, 300);
    at(1_800, 400);
    assert.deepEqual(changes, [true, false], 'still growing, but not given way to again');
    at(2_000, 0);
    at(2_200, 5);
    assert.deepEqual(changes, [true, false, true], 'drained: the next burst is given way to');
  });

  it('a backlog it cannot read means no intake: the worker takes every slot', async () => {
    const failing = {
      withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
      workflowService: {
        describeTaskQueue: () => Promise.reject(new Error('unavailable')),
      },
    };
    const { watch, changes, at } = watchWith({ connection: failing as never });
    at(0, 1);
    at(200, 2);
    await watch.read();
    assert.deepEqual(changes, [true, false]);
  });
});

describe('IntakeWatch on a real dev server', function () {
  this.timeout(60_000);
  it('reads a growing backlog while workflows are started with no worker, and its end when starts stop', async () => {
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const client = await testClient();
    const taskQueue = uniqueTaskQueue('intake-watch');
    const changes: boolean[] = [];
    const watch = new IntakeWatch({
      connection,
      namespace: 'default',
      taskQueue,
      onChange: (on) => changes.push(on),
      log: silent,
    });
    const startSome = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          client.workflow.start('noSuchWorkflow', { taskQueue, workflowId: `${taskQueue}-${from + i}` }),
        ),
      );
    try {
      await watch.read();
      // Of 40 starts spread over the queue's partitions, some land on the root partition that it reads.
      await startSome(40, 0);
      await watch.read();
      assert.deepEqual(changes, [true]);
      // The server adds a start's workflow task a moment after the start returns: the growth ends soon after.
      for (let i = 0; i < 25 && changes.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
        await watch.read();
      }
      assert.deepEqual(changes, [true, false]);
    } finally {
      watch.stop();
      await connection.close();
    }
  });
});

describe('a worker with intake-first slots (real dev server, real worker, mock over HTTP)', function () {
  this.timeout(60_000);
  const slots = new CountingSlots(8, 2);
  const env = useWorkflowEnv({ queuePrefix: 'intake-slots', worker: { workflowSlots: slots } });

  it('holds at most the intake limit while intake is on, the max after; every transaction posted once', async () => {
    slots.intake = true;
    const during = Array.from({ length: 12 }, () => newTransaction());
    await Promise.all((await Promise.all(during.map((tx) => env.start(tx)))).map((h) => h.result()));
    assert.ok(slots.reserved > 0, 'the worker takes its workflow-task slots from the supplier');
    assert.ok(slots.peakDuringIntake <= 2, `held ${slots.peakDuringIntake} slots during intake`);
    slots.intake = false;
    const after = Array.from({ length: 12 }, () => newTransaction());
    await Promise.all((await Promise.all(after.map((tx) => env.start(tx)))).map((h) => h.result()));
    for (const tx of [...during, ...after]) assert.equal(env.mock.store.copies(tx.id), 1, tx.id);
  });
});

describe('WORKER_INTAKE_WORKFLOW_TASKS', () => {
  it('defaults to 0 (the max throughout) and may not exceed WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', () => {
    assert.equal(workerSettings({}).intakeWorkflowTasks, 0);
    assert.equal(workerSettings({ WORKER_INTAKE_WORKFLOW_TASKS: '4' }).intakeWorkflowTasks, 4);
    assert.throws(
      () =>
        workerSettings({ WORKER_INTAKE_WORKFLOW_TASKS: '20', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '16' }),
      /WORKER_INTAKE_WORKFLOW_TASKS="20": must be at most WORKER_MAX_CONCURRENT_WORKFLOW_TASKS \(16\)/,
    );
    assert.throws(
      () => workerSettings({ WORKER_INTAKE_WORKFLOW_TASKS: '-1' }),
      /WORKER_INTAKE_WORKFLOW_TASKS/,
    );
  });
});
