// Which runs to replay (the IDs given, or a visibility query's matches) and their histories, fetched a few
// ahead of the replay so that a remote server's round trips overlap with it.
import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { FlagError } from '../shared/cli';
import type { Selection } from './options';

/** The workflow type of a transaction (src/workflows/process-transaction.ts). */
const WORKFLOW_TYPE = 'processTransaction';
/** Histories fetched ahead of the one being replayed. */
const PREFETCH = 4;
/** gRPC status codes: a request refused as malformed (a bad visibility query), an unknown workflow. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

export interface Target {
  workflowId: string;
  runId?: string;
}

export type Fetched =
  | { target: Target; history: temporal.api.history.v1.IHistory }
  | { target: Target; missing: 'not found' | string };

export interface Listed {
  targets: Target[];
  /** More runs matched than --limit allowed. */
  truncated: boolean;
}

/** The visibility query actually sent: txflow's transactions only, within the operator's query. */
export function scopedQuery(query: string): string {
  return `WorkflowType = "${WORKFLOW_TYPE}" AND (${query})`;
}

/**
 * The runs to replay. A query the server refuses is a FlagError naming --query (exit 2); `onListed` reports
 * the count while a long listing runs.
 */
export async function selectTargets(
  client: Client,
  selection: Selection,
  onListed: (count: number) => void = () => undefined,
): Promise<Listed> {
  if (selection.kind === 'ids') return { targets: [...selection.ids], truncated: false };
  const targets: Target[] = [];
  try {
    for await (const run of client.workflow.list({ query: scopedQuery(selection.query) })) {
      if (targets.length === selection.limit) return { targets, truncated: true };
      targets.push({ workflowId: run.workflowId, runId: run.runId });
      onListed(targets.length);
    }
  } catch (err) {
    const grpc = (err as { cause?: unknown }).cause ?? err;
    if (isGrpcServiceError(grpc) && grpc.code === INVALID_ARGUMENT) {
      throw new FlagError(`Invalid flags:\n  --query ${JSON.stringify(selection.query)}: ${grpc.details}`);
    }
    throw err;
  }
  return { targets, truncated: false };
}

async function fetchOne(client: Client, target: Target): Promise<Fetched> {
  try {
    return {
      target,
      history: await client.workflow.getHandle(target.workflowId, target.runId).fetchHistory(),
    };
  } catch (err) {
    // fetchHistory passes the server's NOT_FOUND through as it came, not as a WorkflowNotFoundError.
    const grpc = (err as { cause?: unknown }).cause ?? err;
    if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(grpc) && grpc.code === NOT_FOUND)) {
      return { target, missing: 'not found' };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { target, missing: `cannot fetch the history: ${message.split('\n')[0]}` };
  }
}

/** Each target's history (or why there is none), in the targets' order, up to PREFETCH fetched ahead. */
export async function* fetchHistories(client: Client, targets: readonly Target[]): AsyncGenerator<Fetched> {
  const pending: Promise<Fetched>[] = [];
  let next = 0;
  const fill = () => {
    while (pending.length < PREFETCH && next < targets.length) {
      pending.push(fetchOne(client, targets[next++] as Target));
    }
  };
  fill();
  while (pending.length > 0) {
    const fetched = await (pending.shift() as Promise<Fetched>);
    fill();
    yield fetched;
  }
}
