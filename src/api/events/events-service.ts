import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowIdConflictPolicy,
  type Client,
} from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import {
  DELIVERY_WORKFLOW_TYPE,
  deliveryPrefix,
  type DeliveryInput,
  type DeliveryResult,
} from '../../domain/callbacks';
import type { deliverEvent } from '../../workflows';
import { asTemporalUnavailable } from '../temporal/temporal-errors';
import { callTemporal } from '../transactions/transaction-reader';
import type { TransactionMemo } from '../transactions/transaction-view';
import {
  asSeenByClient,
  closedDelivery,
  groupByEvent,
  isClientEndpoint,
  latestRuns,
  runningDelivery,
  type DeliveryRun,
  type EventView,
} from './delivery-log';

export interface EventsServiceDeps {
  client: Client;
  taskQueue: string;
  /** Limit of one call to Temporal. */
  rpcTimeoutMs: number;
  /**
   * CALLBACK_SUBSCRIBER_URLS as configured now: a redelivery goes only to these and to the transaction's own
   * callback_url, never to a subscriber the operator has removed since.
   */
  subscribers?: readonly string[];
}

export type RedeliverResult =
  { kind: 'not_found' } | { kind: 'in_flight' } | { kind: 'started'; runs: number };

/** A transaction's most deliveries listed (10 endpoints for each of a few runs). */
const MAX_DELIVERIES = 200;
/** Visibility rows read at most: every redelivery is a row, so deliveries are counted by workflow ID. */
const MAX_LISTED_RUNS = 2_000;

/**
 * The callback events of a transaction and their delivery log, read from the `deliverEvent` runs (found in
 * visibility by their deterministic workflow IDs, `<txId>/events/<eventId>/<endpoint>`); and redelivery.
 */
export class EventsService {
  constructor(private readonly deps: EventsServiceDeps) {}

  /** The events, oldest first; null when there is no such transaction. */
  async list(transactionId: string): Promise<EventView[] | null> {
    const found = await this.find(transactionId);
    if (!found) return null;
    const runs = await this.runs(transactionId);
    const deliveries = await Promise.all(
      runs.map(async (run) => ({
        input: run.input,
        view: asSeenByClient(await this.deliveryView(run), found.callbackUrl),
      })),
    );
    return groupByEvent(deliveries);
  }

  /** Sends the event to each of its endpoints again (the same ID and body, signed anew). */
  async redeliver(transactionId: string, eventId: string): Promise<RedeliverResult> {
    const found = await this.find(transactionId);
    if (!found) return { kind: 'not_found' };
    const subscribers = new Set(this.deps.subscribers ?? []);
    const configured = (input: DeliveryInput) =>
      isClientEndpoint(input, found.callbackUrl) || subscribers.has(input.url);
    const runs = (await this.runs(transactionId)).filter(
      (run) => run.input.event.id === eventId && configured(run.input),
    );
    if (runs.length === 0) return { kind: 'not_found' };
    // Visibility lags: a run it still lists as running may have closed; its description is authoritative.
    const running = await Promise.all(runs.filter((run) => run.running).map((run) => this.stillRunning(run)));
    if (running.some(Boolean)) return { kind: 'in_flight' };
    let started = 0;
    for (const run of runs) {
      try {
        await this.rpc(() =>
          this.deps.client.workflow.start<typeof deliverEvent>(DELIVERY_WORKFLOW_TYPE, {
            workflowId: run.workflowId,
            taskQueue: this.deps.taskQueue,
            args: [run.input],
            memo: { delivery: run.input },
            staticSummary: `${run.input.event.type} (redelivery)`,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          }),
        );
        started += 1;
      } catch (err) {
        // Another redelivery started it meanwhile.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asTemporalUnavailable(err);
      }
    }
    return started === 0 ? { kind: 'in_flight' } : { kind: 'started', runs: started };
  }

  private async stillRunning(run: DeliveryRun): Promise<boolean> {
    const handle = this.deps.client.workflow.getHandle(run.workflowId, run.runId);
    const description = await this.rpc(() => handle.describe()).catch((err: unknown) => {
      throw asTemporalUnavailable(err);
    });
    return description.status.name === 'RUNNING';
  }

  /** The transaction's client callback_url (from its memo), or null when there is no such transaction. */
  private async find(transactionId: string): Promise<{ callbackUrl: string | undefined } | null> {
    try {
      const description = await this.rpc(() => this.deps.client.workflow.getHandle(transactionId).describe());
      const memo = description.memo as Partial<TransactionMemo> | undefined;
      return { callbackUrl: memo?.callbackUrl };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw asTemporalUnavailable(err);
    }
  }

  private async runs(transactionId: string): Promise<DeliveryRun[]> {
    // Transaction IDs hold no quotes (A-Z a-z 0-9 . _ : -): safe inside the query's string.
    const query = `WorkflowType = '${DELIVERY_WORKFLOW_TYPE}' AND WorkflowId STARTS_WITH '${deliveryPrefix(transactionId)}'`;
    const executions: temporal.api.workflow.v1.IWorkflowExecutionInfo[] = [];
    const deliveries = new Set<string>();
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.rpc(() =>
        this.deps.client.workflowService.listWorkflowExecutions({
          namespace: this.deps.client.options.namespace,
          query,
          pageSize: 100,
          nextPageToken,
        }),
      ).catch((err: unknown) => {
        throw asTemporalUnavailable(err);
      });
      executions.push(...page.executions);
      for (const e of page.executions) deliveries.add(e.execution?.workflowId ?? '');
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken && deliveries.size < MAX_DELIVERIES && executions.length < MAX_LISTED_RUNS);
    return latestRuns(executions);
  }

  private async deliveryView(run: DeliveryRun) {
    const handle = this.deps.client.workflow.getHandle<typeof deliverEvent>(run.workflowId, run.runId);
    if (run.running) {
      const description = await this.rpc(() => handle.describe()).catch((err: unknown) => {
        throw asTemporalUnavailable(err);
      });
      if (description.status.name === 'RUNNING') {
        return runningDelivery(run.input, description.raw.pendingActivities?.[0]);
      }
    }
    const outcome = await this.rpc(() => handle.result()).then(
      (result: DeliveryResult) => result,
      (err: unknown) => {
        if (err instanceof Error && err.name === 'WorkflowFailedError') return err;
        throw asTemporalUnavailable(err);
      },
    );
    return closedDelivery(run.input, outcome);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return callTemporal(this.deps, fn);
  }
}
