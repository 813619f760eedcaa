import type { Client } from '@temporalio/client';
import type { PostingClient } from '../posting/posting-client';
import { compare, idsToLookUp } from './compare';
import { readDownstream } from './downstream-side';
import type { ReconcileOptions } from './options';
import { downstreamSummary, type ReconcileReport } from './report';
import { listTxflow, lookUpTxflow, type Progress } from './txflow-side';

export interface ReconcileDeps {
  client: Client;
  posting: PostingClient;
  /** Called as each step advances: its name, done and total. */
  progress?: (step: string, done: number, total: number) => void;
}

/** Reads both sides, looks up the downstream IDs the listing lacks, and compares. */
export async function reconcile(options: ReconcileOptions, deps: ReconcileDeps): Promise<ReconcileReport> {
  const startedAt = new Date();
  const now = options.now ?? startedAt;
  const concurrency = options.concurrency ?? 16;
  const step =
    (name: string): Progress =>
    (done, total) =>
      deps.progress?.(name, done, total);
  const range = { from: options.from, to: options.to };

  const txflow = await listTxflow(deps.client, options, step('txflow'));
  const downstream = await readDownstream(deps.posting, [...txflow.keys()], concurrency, step('downstream'));
  const lookedUp = await lookUpTxflow(
    deps.client,
    idsToLookUp(txflow, downstream, range),
    concurrency,
    step('look up'),
  );
  const result = compare({ range, now, graceMs: options.graceMs, txflow, downstream, lookedUp });
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    range: { from: options.from.toISOString(), to: options.to.toISOString() },
    temporal: { address: options.temporal, namespace: options.namespace, taskQueue: options.taskQueue },
    posting: options.posting,
    graceSeconds: options.graceMs / 1_000,
    downstream: downstreamSummary(downstream),
    checked: { unknownDownstream: downstream.mode === 'list', duplicates: downstream.mode === 'list' },
    ok: result.counts.mismatches === 0,
    ...result,
  };
}
