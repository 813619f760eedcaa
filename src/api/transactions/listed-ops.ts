import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { TX_ATTEMPTS, TX_PHASE } from '../../domain/search-attributes';

/**
 * What a listing shows an operator beside the transaction: where its run is (TxPhase), how many downstream
 * calls it made (TxAttempts), and the last error the workflow put in its memo. null where the run never
 * recorded one (runs from before these were kept, or no error yet).
 */
export interface ListedOps {
  phase: string | null;
  attempts: number | null;
  lastError: string | null;
  lastErrorKind: string | null;
}

/** Pure: the ops fields of a listed run, from its search attributes and memo (no call per item). */
export function listedOps(execution: temporal.api.workflow.v1.IWorkflowExecutionInfo): ListedOps {
  const attributes = execution.searchAttributes?.indexedFields ?? {};
  const attribute = (name: string): unknown => {
    const payload = attributes[name];
    return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  };
  const memo = (mapFromPayloads(defaultPayloadConverter, execution.memo?.fields) ?? {}) as Record<
    string,
    unknown
  >;
  const phase = attribute(TX_PHASE.name);
  const attempts = attribute(TX_ATTEMPTS.name);
  return {
    phase: typeof phase === 'string' ? phase : null,
    attempts: typeof attempts === 'number' && Number.isInteger(attempts) ? attempts : null,
    lastError: typeof memo.lastError === 'string' ? memo.lastError : null,
    lastErrorKind: typeof memo.lastErrorKind === 'string' ? memo.lastErrorKind : null,
  };
}
