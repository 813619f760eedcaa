import { z } from 'zod';
import { TRANSACTION_STATUSES } from '../../domain/transaction';
import { currency, transactionId } from './submission-schemas';
import { TX_PHASES } from '../../domain/phase';

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 1000;

/** Path parameters of `/api/transactions/{id}` and its `/retry` and `/cancel`. */
export const transactionIdParams = z.object({ id: transactionId });

const INSTANT_MESSAGE = 'must be an ISO 8601 date or date-time, e.g. 2026-11-23 or 2026-11-23T10:00:00Z';

// A date (midnight UTC) or a date-time with an offset; normalised to UTC so the visibility query gets one form.
export const instant = z
  .string({ message: INSTANT_MESSAGE })
  .refine((s) => z.iso.datetime({ offset: true }).safeParse(s).success || z.iso.date().safeParse(s).success, {
    message: INSTANT_MESSAGE,
  })
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: INSTANT_MESSAGE })
  .transform((s) => new Date(s).toISOString());

const LIMIT_MESSAGE = `must be a whole number from 1 to ${LIST_LIMIT_MAX}`;
const limit = z
  .string({ message: LIMIT_MESSAGE })
  .regex(/^[1-9][0-9]{0,3}$/, { message: LIMIT_MESSAGE })
  .transform(Number)
  .refine((n) => n <= LIST_LIMIT_MAX, { message: LIMIT_MESSAGE });

const MIN_ATTEMPTS_MESSAGE = 'must be a whole number from 0 to 1000000';
const minAttempts = z
  .string({ message: MIN_ATTEMPTS_MESSAGE })
  .regex(/^(0|[1-9][0-9]{0,6})$/, { message: MIN_ATTEMPTS_MESSAGE })
  .transform(Number)
  .refine((n) => n <= 1_000_000, { message: MIN_ATTEMPTS_MESSAGE });

const cursor = z
  .string({ message: 'must be the next_cursor of a previous page' })
  .max(2048, { message: 'must be the next_cursor of a previous page' })
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be the next_cursor of a previous page' });

const unknownParams = (issue: { code?: string; keys?: readonly string[] }) =>
  issue.code === 'unrecognized_keys'
    ? `unknown parameter${issue.keys?.length === 1 ? '' : 's'} ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}`
    : 'must be a query string';

/**
 * `GET /api/transactions` query: every filter optional and combined with AND; `from` inclusive, `to`
 * exclusive (on the time the transaction was accepted); the next page with `cursor` and the same filters.
 */
export const listQuerySchema = z
  .strictObject(
    {
      status: z
        .enum(TRANSACTION_STATUSES, { message: `must be one of ${TRANSACTION_STATUSES.join(', ')}` })
        .optional(),
      currency: currency.optional(),
      from: instant.optional(),
      to: instant.optional(),
      phase: z.enum(TX_PHASES, { message: `must be one of ${TX_PHASES.join(', ')}` }).optional(),
      min_attempts: minAttempts.optional(),
      limit: limit.default(LIST_LIMIT_DEFAULT),
      cursor: cursor.optional(),
    },
    { error: unknownParams },
  )
  .superRefine((q, ctx) => {
    if (q.from !== undefined && q.to !== undefined && q.from >= q.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
    }
  });

export type ListQuery = z.output<typeof listQuerySchema>;
