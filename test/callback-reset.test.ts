import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { temporal } from '@temporalio/proto';
import { eventually } from './support/eventually';
import { testClient } from './support/harness';
import { startCallbackStack, type CallbackStack } from './support/callback-stack';

const { EVENT_TYPE_WORKFLOW_TASK_COMPLETED } = temporal.api.enums.v1.EventType;

describe("callbacks across an operator's reset", function () {
  this.timeout(120_000);
  let stack: CallbackStack;

  before(async function () {
    stack = await startCallbackStack();
  });
  after(async function () {
    await stack?.stop();
  });

  it('a reset run that ends in the same status announces the same event, and it is not sent again', async function () {
    const id = `cb-reset-${randomUUID()}`;
    const body = { id, amount: '3.10', currency: 'EUR', callback_url: stack.receiver.url('/hook') };
    assert.equal((await stack.call('POST', '/api/transactions', body)).status, 202);
    const ofThis = () =>
      stack.receiver.delivered().filter((d) => JSON.parse(d.body).data.transactionId === id);
    await eventually(() => assert.equal(ofThis().length, 1), 60_000);
    const eventId = ofThis()[0]?.eventId;
    assert.match(eventId ?? '', /^evt_[0-9a-f-]+_completed$/);

    // The operator resets the completed run to its first workflow task: the new run checks, finds the
    // transaction posted, ends completed and announces again, under the same run chain.
    const client = await testClient();
    const first = await client.workflow.getHandle(id).describe();
    const history = await client.workflow.getHandle(id, first.runId).fetchHistory();
    const firstTask = history.events?.find((e) => e.eventType === EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    const { runId } = await client.workflowService.resetWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: id, runId: first.runId },
      workflowTaskFinishEventId: firstTask?.eventId,
      requestId: randomUUID(),
      reason: 'test: an operator re-runs a finished transaction',
    });
    assert.ok(runId && runId !== first.runId);
    await client.workflow.getHandle(id, runId).result();

    // Nothing new for the receiver, and the log still has the one event.
    await sleep(2_000);
    assert.deepEqual(
      ofThis().map((d) => d.eventId),
      [eventId],
    );
    const log = (await stack.call('GET', `/api/transactions/${id}/events`)).body;
    assert.deepEqual(
      log.items.map((e: { id: string }) => e.id),
      [eventId],
    );
    assert.equal(stack.mock.store.copies(id), 1, 'posted once, before and after the reset');
  });
});
