import type { FieldError } from '../http/problem';
import { inexactNumbers } from '../http/raw-numbers';
import { fromApiBody, type Submission } from './submission';
import { transactionId, type apiSubmissionSchema } from './submission-schemas';
import type { SubmitResult } from './transactions-service';

/**
 * A batch item's answer. `unknown`: its start got no answer and may have been recorded; `skipped`: not tried,
 * because enough earlier starts of the batch failed that way, or the client went away. Resending the batch is safe
 * for both: every item is deduplicated by its ID.
 */
export type BatchStatus = 'accepted' | 'duplicate' | 'conflict' | 'invalid' | 'unknown' | 'skipped';
export const BATCH_STATUSES: readonly BatchStatus[] = [
  'accepted',
  'duplicate',
  'conflict',
  'invalid',
  'unknown',
  'skipped',
];

export interface BatchItemResult {
  index: number;
  /** The item's ID; null when it gave none that is valid. */
  id: string | null;
  status: BatchStatus;
  /** Where to read it: accepted, duplicate and unknown items. */
  location?: string;
  /** invalid: each failing field, named from the body ("body.transactions[3].amount"). */
  errors?: FieldError[];
}

/** An item as validated: ready to submit, or invalid with its errors. */
export type CheckedItem =
  { index: number; submission: Submission } | { index: number; id: string | null; errors: FieldError[] };

type ItemSchema = ReturnType<typeof apiSubmissionSchema>;

const itemField = (index: number, path: readonly PropertyKey[]) =>
  [`body.transactions[${index}]`, ...path.map(String)].join('.');

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Validates each item with the single POST's own schema and exact-number rule (amount and metadata), and
 * requires its `id`: a batch item has no Idempotency-Key header, and without an ID a resent batch could not be
 * deduplicated. `raw` is the body as received, for the numbers JSON.parse rounds.
 */
export function checkItems(
  items: readonly unknown[],
  raw: Buffer | undefined,
  schema: ItemSchema,
  now: Date,
): CheckedItem[] {
  const inexact = inexactByItem(raw);
  return items.map((item, index) => {
    const result = schema.safeParse(item);
    const errors: FieldError[] = result.success
      ? []
      : result.error.issues.map((issue) => ({ field: itemField(index, issue.path), message: issue.message }));
    if (isObject(item) && item.id === undefined) {
      errors.push({
        field: itemField(index, ['id']),
        message: 'is required in a batch: it is what makes a resent batch safe',
      });
    }
    const named = new Set(errors.map((e) => e.field));
    for (const error of inexact.get(index) ?? []) if (!named.has(error.field)) errors.push(error);
    if (result.success && errors.length === 0) {
      return { index, submission: fromApiBody(result.data, result.data.id, now) };
    }
    const id = isObject(item) && transactionId.safeParse(item.id).success ? (item.id as string) : null;
    return { index, id, errors };
  });
}

/** The numbers under an item's `amount` or `metadata` that JSON.parse did not read exactly, by item index. */
function inexactByItem(raw: Buffer | undefined): Map<number, FieldError[]> {
  const byItem = new Map<number, FieldError[]>();
  if (!raw) return byItem;
  for (const { path, text } of inexactNumbers(raw.toString('utf8'), new Set(['transactions']))) {
    const [, index, member] = path;
    if (typeof index !== 'number' || (member !== 'amount' && member !== 'metadata')) continue;
    const shown = text.length > 32 ? `${text.slice(0, 24)}…` : text;
    const errors = byItem.get(index) ?? [];
    errors.push({
      field: itemField(index, path.slice(2)),
      message: `is ${shown}, which a JSON parser reads as ${String(Number(text))}: send it as a string`,
    });
    byItem.set(index, errors);
  }
  return byItem;
}

export interface SubmitBatchOptions {
  /** The service's submit: the per-ID deduplication of a single POST. */
  submit: (submission: Submission) => Promise<SubmitResult>;
  /** Starts in flight at once. */
  concurrency: number;
  /** After this many failed starts, the items not yet begun are skipped (default: `concurrency`). */
  failureLimit?: number;
  location: (id: string) => string;
  /** Each submit's result, as it comes (for metrics). */
  onSubmitted?: (result: SubmitResult) => void;
  /** A submit that failed: its outcome is unknown. */
  onFailed?: (err: unknown, id: string) => void;
  /** True once the client has gone away: nothing more is started. */
  abandoned?: () => boolean;
}

/**
 * Submits the valid items, `concurrency` at a time, and answers every item in request order. Items sharing an
 * ID go one after the other, in order, each through the same submit: the second of two equal bodies is then a
 * duplicate, of two different bodies a conflict, exactly as if it had been resent alone. A failed submit
 * (Temporal unreachable or not answering) is `unknown`. Once `failureLimit` have failed (by default as many
 * as are in flight: Temporal down rather than one start slow), items not yet begun are `skipped` rather than
 * each waiting out its own timeout: the answer comes in about one RPC timeout, and resending is safe.
 */
export async function submitBatch(
  items: readonly CheckedItem[],
  options: SubmitBatchOptions,
): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = new Array<BatchItemResult>(items.length);
  for (const item of items) {
    if ('errors' in item) {
      results[item.index] = { index: item.index, id: item.id, status: 'invalid', errors: item.errors };
    }
  }
  const groups = groupsById(items);
  const failureLimit = options.failureLimit ?? options.concurrency;
  let failures = 0;
  const inFlight = new Set<Promise<SubmitResult>>();
  const run = async ({ index, submission }: Submittable) => {
    const id = submission.transaction.id;
    if (failures >= failureLimit || options.abandoned?.()) {
      results[index] = { index, id, status: 'skipped' };
      return;
    }
    const attempt = options.submit(submission);
    inFlight.add(attempt);
    try {
      const result = await attempt;
      options.onSubmitted?.(result);
      const location = result.kind === 'conflict' ? {} : { location: options.location(id) };
      results[index] = { index, id, status: result.kind, ...location };
    } catch (err) {
      failures++;
      options.onFailed?.(err, id);
      results[index] = { index, id, status: 'unknown', location: options.location(id) };
      // Before starting another, let the starts in flight tell whether Temporal is down (they fail too, and
      // the limit is reached) or this one was slow (they succeed, and the batch goes on).
      inFlight.delete(attempt);
      await Promise.allSettled([...inFlight]);
    } finally {
      inFlight.delete(attempt);
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++] ?? [];
      for (const item of group) await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, groups.length) }, worker));
  return results;
}

type Submittable = { index: number; submission: Submission };

/** The valid items grouped by transaction ID, in order of first appearance, each group in request order. */
function groupsById(items: readonly CheckedItem[]): Submittable[][] {
  const byId = new Map<string, Submittable[]>();
  for (const item of items) {
    if ('errors' in item) continue;
    const id = item.submission.transaction.id;
    const group = byId.get(id) ?? [];
    group.push(item);
    byId.set(id, group);
  }
  return [...byId.values()];
}

/** How many items got each status (every status present, 0 when none). */
export function summarize(results: readonly BatchItemResult[]): Record<BatchStatus, number> {
  const summary = Object.fromEntries(BATCH_STATUSES.map((s) => [s, 0])) as Record<BatchStatus, number>;
  for (const r of results) summary[r.status]++;
  return summary;
}
