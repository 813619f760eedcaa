import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { TX_ATTEMPTS, TX_PHASE, TX_STATUS } from '../../src/domain/search-attributes';
import type { ProcessingPolicy, Transaction } from '../../src/domain/transaction';
import { startOptions } from '../../src/api/transactions/start-options';
import type { TransactionMemo } from '../../src/api/transactions/transaction-view';
import { processTransaction } from '../../src/workflows';

/** What the workflow records for operators (TxPhase, TxAttempts, memo lastError/lastErrorKind). */
export interface OpsRecord {
  /** TxStatus (the start sets pending; the workflow's first task processing). */
  status?: string;
  phase?: string;
  attempts?: number;
  lastError?: string;
  lastErrorKind?: string;
}

/**
 * Starts a real transaction run as the API does, with the operators' record already set at start: a stand-in
 * for the workflow keeping them current, so listings and redrives have values to filter on.
 */
export async function startWithRecord(
  client: Client,
  taskQueue: string,
  policy: ProcessingPolicy,
  transaction: Transaction,
  record: OpsRecord,
  /** A later run under a closed run's ID (as an operator's reset or a start by hand makes): ALLOW_DUPLICATE. */
  reuse: WorkflowIdReusePolicy = WorkflowIdReusePolicy.REJECT_DUPLICATE,
): Promise<void> {
  const memo: TransactionMemo = {
    transaction,
    fingerprint: `fp-${transaction.id}`,
    submittedAt: new Date().toISOString(),
  };
  const options = startOptions(memo, { taskQueue, policy }, reuse);
  await client.workflow.start(processTransaction, {
    ...options,
    memo: {
      ...options.memo,
      ...(record.lastError !== undefined && { lastError: record.lastError }),
      ...(record.lastErrorKind !== undefined && { lastErrorKind: record.lastErrorKind }),
    },
    typedSearchAttributes: [
      // The start sets checking and 0 (as the API's does): the record's values replace them.
      ...options.typedSearchAttributes.filter(
        (pair) =>
          !(pair.key.name === TX_STATUS.name && record.status !== undefined) &&
          !(pair.key.name === TX_PHASE.name && record.phase !== undefined) &&
          !(pair.key.name === TX_ATTEMPTS.name && record.attempts !== undefined),
      ),
      ...(record.status !== undefined ? [{ key: TX_STATUS, value: record.status }] : []),
      ...(record.phase !== undefined ? [{ key: TX_PHASE, value: record.phase }] : []),
      ...(record.attempts !== undefined ? [{ key: TX_ATTEMPTS, value: record.attempts }] : []),
    ],
  });
}
