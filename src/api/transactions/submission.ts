import { createHash, randomUUID } from 'node:crypto';
import { canonicalInstant } from '../../domain/instant';
import { parseAmount } from '../../domain/money';
import type { Transaction } from '../../domain/transaction';
import type { Dialect } from '../../domain/transaction-dialects';
import type { ApiSubmissionBody, WebhookSubmissionBody } from './submission-schemas';

/** A validated request to process a transaction, ready to start its workflow. */
export interface Submission {
  transaction: Transaction;
  /**
   * Hash of what the client sent, its timestamp as an instant; a resubmission under the same ID must carry the
   * same one.
   */
  fingerprint: string;
  /**
   * When the timestamp was not in canonical form: the hash with its text as sent, which is what memos written
   * before timestamps were compared as instants hold. A resend of such a submission still matches it.
   */
  legacyFingerprint?: string;
  submittedAt: string;
  /** Where the final status is announced, as the client asked (part of the fingerprint). */
  callbackUrl?: string;
  /** The dialect it came in, in which callbacks show it. */
  dialect?: Dialect;
}

export function fromApiBody(body: ApiSubmissionBody, id: string | undefined, now: Date): Submission {
  const clientFields = {
    amount: canonicalAmount(body.amount, body.currency),
    currency: body.currency,
    description: body.description ?? null,
    timestamp: body.timestamp ?? null,
    metadata: body.metadata ?? null,
    sourceAccount: body.source_account ?? null,
    destinationAccount: body.destination_account ?? null,
  };
  return build(id ?? randomUUID(), clientFields, now, body.callback_url, 'api');
}

export function fromWebhookBody(body: WebhookSubmissionBody, now: Date): Submission {
  const clientFields = {
    amount: canonicalAmount(body.amount, body.currency),
    currency: body.currency,
    description: null,
    timestamp: null,
    metadata: null,
    sourceAccount: body.source_account,
    destinationAccount: body.destination_account,
  };
  return build(body.transaction_id, clientFields, now, body.callback_url, 'v1');
}

type ClientFields = Omit<Transaction, 'id' | 'timestamp'> & { timestamp: string | null };

function build(
  id: string,
  fields: ClientFields,
  now: Date,
  callbackUrl: string | undefined,
  dialect: Dialect,
): Submission {
  const submittedAt = now.toISOString();
  // The same instant in another offset is the same body; a canonical timestamp hashes as it always did.
  const timestamp = fields.timestamp === null ? null : canonicalInstant(fields.timestamp);
  const legacy = timestamp === fields.timestamp ? undefined : hash(fields);
  return {
    transaction: { id, ...fields, timestamp: fields.timestamp ?? submittedAt },
    // Only what the client sent counts: a retry must match even though submittedAt differs.
    // Without a callback_url the hash is what it always was (canonicalJson leaves undefined out).
    fingerprint: hash({ ...fields, timestamp, callbackUrl }),
    ...(legacy !== undefined && { legacyFingerprint: legacy }),
    submittedAt,
    ...(callbackUrl !== undefined && { callbackUrl }),
    dialect,
  };
}

const hash = (fields: ClientFields & { callbackUrl?: string }) =>
  createHash('sha256').update(canonicalJson(fields)).digest('base64url');

function canonicalAmount(amount: string | number, currency: string): string {
  const parsed = parseAmount(amount, currency);
  if (!parsed.ok) throw new Error(`amount was not validated: ${parsed.reason}`);
  return parsed.amount;
}

/** JSON with object keys sorted at every level, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
