import { createHash } from 'node:crypto';
import type { TransactionStatus } from '../../domain/transaction';
import { canonicalJson } from './submission';

/** The filters a page was listed with; a cursor is only good with the same ones. */
export interface ListFilters {
  status?: TransactionStatus | undefined;
  currency?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** TxPhase, and TxAttempts at least this (operators' filters for stuck transactions). */
  phase?: string | undefined;
  min_attempts?: number | undefined;
}

export type DecodedCursor = { ok: true; pageToken: Uint8Array } | { ok: false; reason: string };

// Opaque to clients: base64url of {f: tag of the filters, t: Temporal's page token}. Not a secret: a client
// that forges one gets at most another position in the same listing, which Temporal validates again.
export function encodeCursor(pageToken: Uint8Array, filters: ListFilters): string {
  const body = { f: filterTag(filters), t: Buffer.from(pageToken).toString('base64url') };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(cursor: string, filters: ListFilters): DecodedCursor {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'is not a cursor from this API' };
  }
  const { f, t } = (body ?? {}) as { f?: unknown; t?: unknown };
  if (typeof f !== 'string' || typeof t !== 'string' || !/^[A-Za-z0-9_-]+$/.test(t)) {
    return { ok: false, reason: 'is not a cursor from this API' };
  }
  if (f !== filterTag(filters)) {
    return { ok: false, reason: 'belongs to other filters: send the same filters' };
  }
  return { ok: true, pageToken: Buffer.from(t, 'base64url') };
}

function filterTag(filters: ListFilters): string {
  const { status, currency, from, to, phase, min_attempts } = filters;
  return createHash('sha256')
    .update(canonicalJson({ status, currency, from, to, phase, min_attempts }))
    .digest('base64url')
    .slice(0, 16);
}
