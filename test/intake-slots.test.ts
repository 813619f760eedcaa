import assert from 'node:assert/strict';
import { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../src/config/logger';
import { workerSettings } from '../src/config/worker';
import type { SlotMarkUsedContext, SlotReserveContext, WorkflowSlotInfo } from '@temporalio/worker';
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
const normal = { isSticky: false } as SlotReserveContext;
const sticky = { isSticky: true } as SlotReserveContext;
const never = new AbortController().signal;

/** Counts the workflow tasks the worker ran on the supplier's slots while it gave way, by kind. */
class CountingSlots extends IntakeFirstSlots {
  usedDuringIntake = { sticky: 0, normal: 0 };
  override markSlotUsed(c: SlotMarkUsedContext<WorkflowSlotInfo>): void {
    if (this.intake) this.usedDuringIntake[c.slotInfo.isSticky ? 'sticky' : 'normal']++;
  }
}

const settled = () => new Promise((r) => setImmediate(r));

describe('IntakeFirstSlots: all slots while the worker keeps up; while intake outpaces it, only work in flight', () => {
  it('hands out the max; while giving way, sticky polls only, up to the limit; held slots are kept', async () => {
    const slots = new IntakeFirstSlots(4, 2);
    const permits = [];
    for (let i = 0; i < 4; i++) permits.push(await slots.reserveSlot(i < 2 ? normal : sticky, never));
    assert.equal(slots.tryReserveSlot(sticky), null, 'no fifth slot');
    slots.intake = true;
    assert.equal(slots.held(), 4, 'held slots stay held');
    for (const permit of permits) slots.releaseSlot({ permit });
    assert.equal(slots.tryReserveSlot(normal), null, 'no new workflow while giving way');
    assert.notEqual(slots.tryReserveSlot(sticky), null);
    assert.notEqual(slots.tryReserveSlot(sticky), null);
    assert.equal(slots.tryReserveSlot(sticky), null, 'two for the workflows in flight');
    slots.intake = false;
    assert.notEqual(slots.tryReserveSlot(normal), null, 'intake over: up to the max again');
    assert.notEqual(slots.tryReserveSlot(normal), null);
    assert.equal(slots.held(), 4);
  });

  it('keeps 2 slots from sticky polls while it does not give way, so that new workflows never wait behind them', () => {
    const slots = new IntakeFirstSlots(4, 2);
    assert.notEqual(slots.tryReserveSlot(sticky), null);
    assert.notEqual(slots.tryReserveSlot(sticky), null);
    assert.equal(slots.tryReserveSlot(sticky), null, 'the SDK has 8 sticky pollers: 2 of 4 slots');
    assert.notEqual(slots.tryReserveSlot(normal), null);
    assert.notEqual(slots.tryReserveSlot(normal), null);
  });

  it('a new workflow waits while it gives way, however many sticky slots are held, and gets a slot when it ends', async () => {
    const slots = new IntakeFirstSlots(16, 4);
    // The SDK's 8 sticky pollers, each with a slot reserved, waiting on a quiet sticky queue.
    for (let i = 0; i < 8; i++) await slots.reserveSlot(sticky, never);
    slots.intake = true;
    let got = false;
    const waiting = slots.reserveSlot(normal, never).then(() => (got = true));
    await settled();
    assert.equal(got, false);
    slots.intake = false;
    await waiting;
    assert.deepEqual([slots.held('normal'), slots.held('sticky')], [1, 8]);
  });

  it('an aborted reservation rejects with the abort reason and takes no slot', async () => {
    const slots = new IntakeFirstSlots(2, 2);
    const permits = [await slots.reserveSlot(normal, never), await slots.reserveSlot(normal, never)];
    const abort = new AbortController();
    const waiting = slots.reserveSlot(normal, abort.signal);
    abort.abort(new Error('poll no longer needed'));
    await assert.rejects(waiting, /poll no longer needed/);
    for (const permit of permits) slots.releaseSlot({ permit });
    assert.equal(slots.held(), 0);
  });

  it('refuses no slot at all while giving way, or more than the max', () => {
    assert.throws(() => new IntakeFirstSlots(16, 0), RangeError);
    assert.throws(() => new IntakeFirstSlots(16, 17), RangeError);
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
      // One read of growth begins intake here; the default two have a test of their own.
      startReads: 1,
      ...overrides,
    });
    const clock = (ms: number) => (now = ms);
    const at = (ms: number, backlog: number) => {
      clock(ms);
      watch.observe(backlog);
    };
    return { watch, changes, at, clock };
  };

  it('growth since the last reading means intake; two readings without growth end it', () => {
    const first = watchWith();
    first.at(0, 50);
    assert.deepEqual(first.changes, [], 'a first reading is no growth');
    const { changes, at } = watchWith();
    at(0, 0);
    at(100, 3);
    assert.deepEqual(changes, [], 'below 4: a worker that keeps up has a few now and then');
    at(150, 2);
    at(200, 60);
    assert.deepEqual(changes, [true]);
    at(400, 60);
    assert.deepEqual(changes, [true], 'one quiet reading is not the end');
    at(600, 40);
    assert.deepEqual(changes, [true, false]);
  });

  it('begins after two reads in a row with growth: one can be a pause of the worker', () => {
    const { changes, at } = watchWith({ startReads: undefined });
    at(0, 0);
    at(200, 6);
    at(400, 5);
    assert.deepEqual(changes, []);
    at(600, 10);
    at(800, 14);
    assert.deepEqual(changes, [true]);
  });

  it('gives way once per episode: once intake is over, not again until the backlog has drained', () => {
    const { changes, at } = watchWith();
    at(0, 0);
    at(200, 10);
    at(400, 10);
    at(600, 9);
    assert.deepEqual(changes, [true, false]);
    // Draining slowly near the worker's capacity, with jitter that looks like growth.
    for (let t = 800, backlog = 9; t <= 3_000; t += 400, backlog--) {
      at(t, backlog + 3);
      at(t + 200, backlog);
    }
    assert.deepEqual(changes, [true, false]);
    at(3_200, 0);
    at(3_400, 6);
    assert.deepEqual(changes, [true, false, true], 'drained: a new burst');
  });

  it('growth of less than 2 per read is a load the worker can take: giving way ends', () => {
    const { changes, at } = watchWith();
    at(0, 0);
    at(200, 4);
    assert.deepEqual(changes, [true]);
    // While it gives way any arrival grows the backlog; a steady 1 per read must not keep it so.
    for (let t = 400, backlog = 5; t <= 1_000; t += 200, backlog++) at(t, backlog);
    assert.deepEqual(changes, [true, false]);
  });

  it('giving way longer than maxDeferMs is an overload: every slot until the backlog is empty, then bursts again', () => {
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

  it('bursts with pauses between them do not reset the bound: it counts from the first growth since empty', () => {
    const { changes, at } = watchWith({ maxDeferMs: 1_000 });
    let backlog = 1;
    at(0, backlog);
    // Grows, then two quiet readings, over and over: each episode of giving way is short.
    for (let t = 200; t <= 60_000; t += 600) {
      at(t, (backlog += 10));
      at(t + 200, backlog);
      at(t + 400, backlog);
    }
    assert.equal(changes.at(-1), false);
    assert.ok(changes.length <= 4, `gave way ${changes.filter(Boolean).length} times in 60 s`);
  });

  it('a backlog it cannot read, or a server that gives none, means no giving way', async () => {
    const describing = { result: Promise.reject(new Error('unavailable')) as Promise<unknown> };
    describing.result.catch(() => undefined);
    const connection = {
      withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
      workflowService: { describeTaskQueue: () => describing.result },
    };
    const { watch, changes, at } = watchWith({ connection: connection as never });
    at(0, 10);
    at(200, 20);
    await watch.read();
    assert.deepEqual(changes, [true, false], 'unreadable');
    at(400, 10);
    at(600, 20);
    describing.result = Promise.resolve({ taskQueueStatus: null });
    await watch.read();
    assert.deepEqual(changes, [true, false, true, false], 'no status in the answer');
  });

  it('a read that gets no answer for a second (the connection retrying) means no giving way', async () => {
    const connection = {
      withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
      workflowService: { describeTaskQueue: () => new Promise(() => undefined) },
    };
    const { watch, changes, at, clock } = watchWith({ connection: connection as never });
    at(0, 10);
    at(200, 20);
    void watch.read();
    clock(800);
    await watch.read();
    assert.deepEqual(changes, [true], 'still within a second');
    clock(1_300);
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
      // Waves of 40 starts spread over the queue's partitions: each grows the root partition's backlog by a few.
      for (let wave = 0; wave < 10 && changes.length < 1; wave++) {
        await startSome(40, wave * 40);
        await new Promise((r) => setTimeout(r, 100));
        await watch.read();
      }
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

  it('takes no new transaction while giving way, and every one when it ends; each posted once', async () => {
    slots.intake = true;
    const txs = Array.from({ length: 6 }, () => newTransaction());
    const handles = await Promise.all(txs.map((tx) => env.start(tx)));
    await new Promise((r) => setTimeout(r, 1_500));
    // Normal polls that reserved a slot before it gave way keep it (the SDK's 2 pollers and 1 in reserve): at
    // most 3 new ones start.
    assert.ok(slots.usedDuringIntake.normal <= 3, JSON.stringify(slots.usedDuringIntake));
    assert.ok(env.mock.store.stats().requests.post <= 3, 'at most 3 posted yet');
    slots.intake = false;
    await Promise.all(handles.map((h) => h.result()));
    for (const tx of txs) assert.equal(env.mock.store.copies(tx.id), 1, tx.id);
  });
});

describe('WORKER_INTAKE_WORKFLOW_TASKS', () => {
  it('defaults to 0 (every slot throughout) and may not exceed WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', () => {
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
    assert.throws(
      () => workerSettings({ WORKER_INTAKE_WORKFLOW_TASKS: '4', WORKER_MAX_CACHED_WORKFLOWS: '0' }),
      /WORKER_INTAKE_WORKFLOW_TASKS="4": must be 0 when WORKER_MAX_CACHED_WORKFLOWS is 0/,
    );
  });
});
