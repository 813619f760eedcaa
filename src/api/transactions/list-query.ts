import type { TransactionStatus } from '../../domain/transaction';
import type { ListFilters } from './list-cursor';

// Each status as GET /api/transactions/{id} derives it: a closed run whose TxStatus never reached a final
// value (terminated, timed out, failed outside the workflow's own handling) counts as failed.
const STATUS_CLAUSE: Record<TransactionStatus, string> = {
  pending: 'TxStatus = "pending" AND ExecutionStatus = "Running"',
  processing: 'TxStatus = "processing" AND ExecutionStatus = "Running"',
  completed: 'TxStatus = "completed"',
  cancelled: 'TxStatus = "cancelled"',
  failed:
    '(TxStatus = "failed" OR (ExecutionStatus != "Running" AND (TxStatus = "pending" OR TxStatus = "processing")))',
};

/**
 * The visibility query for txflow's transactions on one task queue. Every value is validated before it gets
 * here (enum, ISO 4217 code, normalised ISO 8601); `quote` still refuses anything that could end a string.
 */
export function visibilityQuery(taskQueue: string, filters: ListFilters): string {
  const clauses = [`WorkflowType = "processTransaction"`, `TaskQueue = ${quote(taskQueue)}`];
  if (filters.status !== undefined) clauses.push(STATUS_CLAUSE[filters.status]);
  if (filters.currency !== undefined) clauses.push(`TxCurrency = ${quote(filters.currency)}`);
  if (filters.from !== undefined) clauses.push(`StartTime >= ${quote(filters.from)}`);
  if (filters.to !== undefined) clauses.push(`StartTime < ${quote(filters.to)}`);
  if (filters.phase !== undefined) clauses.push(`TxPhase = ${quote(filters.phase)}`);
  if (filters.min_attempts !== undefined) clauses.push(`TxAttempts >= ${wholeNumber(filters.min_attempts)}`);
  return clauses.join(' AND ');
}

/** A visibility string literal; only plain characters, so no escaping rules of the query parser matter. */
export function quote(value: string): string {
  if (!/^[A-Za-z0-9._:+\-/]+$/.test(value)) {
    throw new Error(`refusing to put ${JSON.stringify(value)} into a visibility query`);
  }
  return `"${value}"`;
}

/** A whole number for a visibility query; anything else is refused (the schemas let none through). */
function wholeNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`refusing ${n} in a visibility query`);
  return String(n);
}

/** The status a listed run shows, from its TxStatus and execution status (no query, no result). */
export function listedStatus(txStatus: unknown, running: boolean): TransactionStatus {
  if (txStatus === 'completed' || txStatus === 'failed' || txStatus === 'cancelled') return txStatus;
  if (!running) return 'failed';
  return txStatus === 'processing' ? 'processing' : 'pending';
}
