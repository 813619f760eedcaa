import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionInfo } from '@temporalio/client';
import { temporalConnectionOptions } from '../config/temporal';
import { TX_STATUS } from '../domain/search-attributes';
import type { TransactionStatus } from '../domain/transaction';
import type { Range, TxflowTransaction } from './compare';
import { postedContent } from '../posting/content';
import type { ReconcileOptions } from './options';
import { pool } from './pool';

/** The workflow type of a transaction (src/workflows/process-transaction.ts). */
const WORKFLOW_TYPE = 'processTransaction';

export type Progress = (done: number, total: number) => void;

export async function connectTemporal(options: ReconcileOptions): Promise<Client> {
  const connection = await Connection.connect({
    ...temporalConnectionOptions({
      address: options.temporal,
      namespace: options.namespace,
      taskQueue: '',
      ...(options.temporalTls && { tls: options.temporalTls }),
      ...(options.temporalApiKey !== undefined && { apiKey: options.temporalApiKey }),
    }),
    connectTimeout: 10_000,
  }).catch((err: unknown) => {
    throw new Error(`Temporal at ${options.temporal}: ${err instanceof Error ? err.message : String(err)}`);
  });
  return new Client({ connection, namespace: options.namespace });
}

/** Visibility query of txflow's transactions started in the range, inclusive (values validated by options). */
export function rangeQuery(range: Range, taskQueue: string | null): string {
  const clauses = [
    `WorkflowType = "${WORKFLOW_TYPE}"`,
    `StartTime >= "${range.from.toISOString()}"`,
    `StartTime <= "${range.to.toISOString()}"`,
  ];
  if (taskQueue !== null) clauses.push(`TaskQueue = "${taskQueue}"`);
  return clauses.join(' AND ');
}

/** The status as GET /api/transactions/{id} derives it from TxStatus: a closed run never left open. */
export function statusOf(txStatus: unknown, running: boolean): TransactionStatus {
  if (txStatus === 'completed' || txStatus === 'failed' || txStatus === 'cancelled') return txStatus;
  if (!running) return 'failed';
  return txStatus === 'processing' ? 'processing' : 'pending';
}

type RunInfo = Pick<
  WorkflowExecutionInfo,
  'workflowId' | 'startTime' | 'closeTime' | 'status' | 'typedSearchAttributes' | 'memo'
>;

function toTransaction(run: RunInfo): TxflowTransaction {
  return {
    id: run.workflowId,
    status: statusOf(run.typedSearchAttributes.get(TX_STATUS), run.status.name === 'RUNNING'),
    startTime: run.startTime.toISOString(),
    closeTime: run.closeTime?.toISOString() ?? null,
    content: postedContent(run.memo),
  };
}

/**
 * One transaction per workflow ID: a reset (the operator's retry) leaves older runs of the same ID, and the
 * newest run is the one that counts.
 */
export function latestRuns(runs: Iterable<TxflowTransaction>): Map<string, TxflowTransaction> {
  const byId = new Map<string, TxflowTransaction>();
  for (const run of runs) {
    const seen = byId.get(run.id);
    if (!seen || Date.parse(run.startTime) > Date.parse(seen.startTime)) byId.set(run.id, run);
  }
  return byId;
}

/** Every transaction started in the range, page by page; `progress` gets the count so far and the total. */
export async function listTxflow(
  client: Client,
  options: Pick<ReconcileOptions, 'from' | 'to' | 'taskQueue'>,
  progress: Progress = () => {},
): Promise<Map<string, TxflowTransaction>> {
  const query = rangeQuery(options, options.taskQueue);
  const { count } = await client.workflow.count(query);
  const runs: TxflowTransaction[] = [];
  progress(0, count);
  for await (const run of client.workflow.list({ query, pageSize: 1_000 })) {
    runs.push(toTransaction(run));
    // Runs started while listing can push the count past the first figure.
    if (runs.length % 100 === 0) progress(runs.length, Math.max(count, runs.length));
  }
  progress(runs.length, Math.max(count, runs.length));
  return latestRuns(runs);
}

/**
 * Each ID's transaction by describe() (strongly consistent, unlike a listing), or null when Temporal has no
 * workflow of that ID or it is not a transaction.
 */
export async function lookUpTxflow(
  client: Client,
  ids: readonly string[],
  concurrency: number,
  progress: Progress = () => {},
): Promise<Map<string, TxflowTransaction | null>> {
  const found = new Map<string, TxflowTransaction | null>();
  progress(0, ids.length);
  await pool(ids, concurrency, async (id) => {
    try {
      const description = await client.workflow.getHandle(id).describe();
      found.set(id, description.type === WORKFLOW_TYPE ? toTransaction(description) : null);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      found.set(id, null);
    }
    progress(found.size, ids.length);
  });
  return found;
}
