import type { Client } from '@temporalio/client';
import { asTemporalUnavailable } from '../temporal/temporal-errors';
import { quote, visibilityQuery } from './list-query';
import { callTemporal } from './transaction-reader';

/** IDs per visibility query: a bounded query text. */
const IDS_PER_QUERY = 100;

export interface NotFailedStartsDeps {
  client: Client;
  taskQueue: string;
  rpcTimeoutMs: number;
}

/**
 * Of `ids` (one visibility call per 100), when each last started a run that is running or ended completed or
 * cancelled (ms since the epoch): a failed transaction retried since, whose old failed runs stay listed.
 */
export async function notFailedStarts(
  deps: NotFailedStartsDeps,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const chunk = ids.slice(i, i + IDS_PER_QUERY);
    const query =
      `${visibilityQuery(deps.taskQueue, {})} AND WorkflowId IN (${chunk.map(quote).join(', ')}) AND ` +
      `(ExecutionStatus = "Running" OR TxStatus = "completed" OR TxStatus = "cancelled")`;
    let token: Uint8Array | undefined;
    do {
      const page = await callTemporal(deps, () =>
        deps.client.workflowService.listWorkflowExecutions({
          namespace: deps.client.options.namespace,
          query,
          pageSize: chunk.length,
          nextPageToken: token,
        }),
      ).catch((err: unknown) => {
        throw asTemporalUnavailable(err);
      });
      for (const execution of page.executions) {
        const id = execution.execution?.workflowId;
        const started = execution.startTime?.seconds;
        if (!id || started == null) continue;
        const at = Number(started) * 1000 + Math.floor((execution.startTime?.nanos ?? 0) / 1e6);
        found.set(id, Math.max(found.get(id) ?? 0, at));
      }
      token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (token);
  }
  return found;
}
