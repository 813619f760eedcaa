import { sameDecimal } from '../domain/decimal';
import type { Transaction } from '../domain/transaction';
import type { PostingRecord } from './posting-client';

/** What txflow posts of a transaction, as its memo holds it: what each stored row must carry. */
export interface PostedContent {
  /** Canonical decimal ("150.50"). */
  amount: string;
  currency: string;
  sourceAccount: string | null;
  destinationAccount: string | null;
}

/** The same of one stored row, as the service gave it (an amount may be a JSON number). */
export interface StoredContent {
  amount: unknown;
  currency: unknown;
  sourceAccount: unknown;
  destinationAccount: unknown;
}

/** The posted field names, as the downstream stores them, in the order a report lists them. */
export type ContentField = 'amount' | 'currency' | 'source_account' | 'destination_account';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The content of a transaction's memo, or null when the memo holds none (then nothing is compared). */
export function postedContent(memo: Record<string, unknown> | undefined): PostedContent | null {
  const t = memo?.transaction;
  if (!isObject(t) || typeof t.amount !== 'string' || typeof t.currency !== 'string') return null;
  const account = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    amount: t.amount,
    currency: t.currency,
    sourceAccount: account((t as Partial<Transaction>).sourceAccount),
    destinationAccount: account((t as Partial<Transaction>).destinationAccount),
  };
}

/** A stored row's content; the accounts are in its metadata, where txflow posts them. */
export function storedContent(record: PostingRecord): StoredContent {
  const metadata = isObject(record.metadata) ? record.metadata : {};
  return {
    amount: record.amount,
    currency: record.currency,
    sourceAccount: metadata.source_account,
    destinationAccount: metadata.destination_account,
  };
}

/**
 * The fields where a stored row differs from what txflow posted. Amounts compare as exact decimals (150.5 and
 * "150.50" are the same); a row's JSON-number amount is compared as the reader parsed it, its shortest text.
 */
export function differingFields(posted: PostedContent, stored: StoredContent): ContentField[] {
  const fields: ContentField[] = [];
  const amount =
    typeof stored.amount === 'number'
      ? String(stored.amount)
      : typeof stored.amount === 'string'
        ? stored.amount
        : '';
  if (!sameDecimal(posted.amount, amount)) fields.push('amount');
  if (stored.currency !== posted.currency) fields.push('currency');
  // An account txflow did not post must be absent (or null) in the row.
  if ((stored.sourceAccount ?? null) !== posted.sourceAccount) fields.push('source_account');
  if ((stored.destinationAccount ?? null) !== posted.destinationAccount) fields.push('destination_account');
  return fields;
}

/** Which rows of one transaction differ, and in which fields (each field once, in report order). */
export function rowsDiffering(
  posted: PostedContent,
  rows: readonly { content: StoredContent }[],
): { rows: number; fields: ContentField[] } | null {
  const fields = new Set<ContentField>();
  let differing = 0;
  for (const row of rows) {
    const found = differingFields(posted, row.content);
    if (found.length === 0) continue;
    differing += 1;
    for (const field of found) fields.add(field);
  }
  if (differing === 0) return null;
  const order: ContentField[] = ['amount', 'currency', 'source_account', 'destination_account'];
  return { rows: differing, fields: order.filter((f) => fields.has(f)) };
}

/**
 * The fields where a record the downstream holds differs from the transaction txflow would post: amount and
 * currency always, the accounts only when the record carries metadata (a service may not echo it back).
 */
export function conflictingFields(transaction: Transaction, record: PostingRecord): ContentField[] {
  const posted: PostedContent = {
    amount: transaction.amount,
    currency: transaction.currency,
    sourceAccount: transaction.sourceAccount,
    destinationAccount: transaction.destinationAccount,
  };
  const fields = differingFields(posted, storedContent(record));
  return isObject(record.metadata) ? fields : fields.filter((f) => f === 'amount' || f === 'currency');
}
