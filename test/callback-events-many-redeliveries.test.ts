import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EventsService } from '../src/api/events/events-service';
import type { DeliveryInput, DeliveryResult } from '../src/domain/callbacks';

// Review finding: the events listing stops after 200 visibility rows, and every redelivery is a row. Visibility
// lists newest first, so redelivering one event many times pushes the transaction's other events out of its log.
const POLICY = { windowMs: 60_000, timeoutMs: 1_000, initialIntervalMs: 1_000, maxIntervalMs: 10_000 };
const COMPLETED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;

function execution(eventId: string, created: string, run: number, startSec: number) {
  const delivery: DeliveryInput = {
    event: { id: eventId, type: 'transaction.completed', created_at: created, data: {} },
    url: 'https://example.com/hook',
    endpoint: 0,
    policy: POLICY,
  };
  return {
    execution: { workflowId: `tx-1/events/${eventId}/0`, runId: `run-${eventId}-${run}` },
    status: COMPLETED,
    startTime: { seconds: startSec, nanos: 0 },
    memo: { fields: { delivery: defaultPayloadConverter.toPayload(delivery) } },
  };
}

function fakeClient(rows: ReturnType<typeof execution>[]): Client {
  const delivered: DeliveryResult = { state: 'delivered', attempts: 1, lastStatus: 200, lastError: null };
  return {
    options: { namespace: 'default' },
    connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() },
    workflowService: {
      listWorkflowExecutions: async ({ nextPageToken }: { nextPageToken?: Uint8Array }) => {
        const from = nextPageToken ? Number(Buffer.from(nextPageToken).toString()) : 0;
        const next = from + 100 < rows.length ? Buffer.from(String(from + 100)) : undefined;
        return { executions: rows.slice(from, from + 100), nextPageToken: next };
      },
    },
    workflow: {
      getHandle: () => ({
        describe: async () => ({ status: { name: 'COMPLETED' } }),
        result: async () => delivered,
      }),
    },
  } as unknown as Client;
}

describe('callback events listing: many redeliveries of one event', function () {
  it('still lists every event of the transaction', async function () {
    // Newest first, as visibility answers: 250 runs of event B (redeliveries), then event A's only run.
    const rows = [];
    for (let run = 250; run > 0; run -= 1)
      rows.push(execution('evt_bbbbbbbb', '2026-01-01T00:00:02Z', run, 1000 + run));
    rows.push(execution('evt_aaaaaaaa', '2026-01-01T00:00:01Z', 1, 1000));
    const service = new EventsService({ client: fakeClient(rows), taskQueue: 'q', rpcTimeoutMs: 1_000 });
    const events = await service.list('tx-1');
    assert.deepEqual(
      events?.map((e) => e.id),
      ['evt_aaaaaaaa', 'evt_bbbbbbbb'],
    );
  });
});
