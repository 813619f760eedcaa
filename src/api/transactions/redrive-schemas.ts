import { z } from 'zod';
import { instant } from './list-schemas';

export const REDRIVE_LIMIT_DEFAULT = 1_000;
export const REDRIVE_LIMIT_MAX = 10_000;

/** PostingErrorKind (src/posting/posting-error.ts), or `deadline`: what a run's memo says its last error was. */
export const ERROR_KINDS = [
  'rejected',
  'not_written',
  'unknown',
  'conflict',
  'unavailable',
  'timeout',
  'deadline',
] as const;

const LIMIT_MESSAGE = `must be a whole number from 1 to ${REDRIVE_LIMIT_MAX}`;

/**
 * `POST /api/transactions/retry`: which failed transactions to run again. `from` inclusive, `to` exclusive, on
 * the time the transaction was accepted; `error` and `error_kind` match the last error its run recorded.
 */
export const redriveBodySchema = z
  .strictObject(
    {
      status: z
        .enum(['failed'], { message: 'must be failed: only a failed transaction can be retried' })
        .default('failed'),
      from: instant.optional(),
      to: instant.optional(),
      error: z
        .string({ message: 'must be a string' })
        .min(1, { message: 'must not be empty' })
        .max(200, { message: 'must be at most 200 characters' })
        .optional()
        .describe('a case-insensitive substring of the last error'),
      error_kind: z.enum(ERROR_KINDS, { message: `must be one of ${ERROR_KINDS.join(', ')}` }).optional(),
      dry_run: z.boolean({ message: 'must be true or false' }).default(false),
      limit: z
        .number({ message: LIMIT_MESSAGE })
        .int({ message: LIMIT_MESSAGE })
        .min(1, { message: LIMIT_MESSAGE })
        .max(REDRIVE_LIMIT_MAX, { message: LIMIT_MESSAGE })
        .default(REDRIVE_LIMIT_DEFAULT),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
          : 'must be a JSON object',
    },
  )
  .superRefine((b, ctx) => {
    if (b.from !== undefined && b.to !== undefined && b.from >= b.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
    }
  });

export type RedriveFilter = z.output<typeof redriveBodySchema>;

/** Why a matched transaction was not started again (the single retry's rules decide). */
export const SKIP_REASONS = [
  'running',
  'completed',
  'cancelled',
  'not_found',
  'refused',
  'outcome_unknown',
  'temporal_unavailable',
] as const;

export type SkipReason = (typeof SKIP_REASONS)[number];

export const redriveResultSchema = z.object({
  dry_run: z.boolean(),
  matched: z.number().int().describe('distinct failed transactions the filter matched (at most limit)'),
  retried: z.number().int().describe('new runs started (0 in a dry run)'),
  skipped: z.number().int(),
  skipped_by_reason: z.record(z.string(), z.number().int()).describe('skipped counts by reason'),
  skipped_items: z
    .array(z.object({ id: z.string(), reason: z.enum(SKIP_REASONS) }))
    .describe('each skipped transaction and why (the first 1,000)'),
  more_may_match: z.boolean().describe('the listing stopped at limit: send again for the rest'),
  ids: z.array(z.string()).describe('the matched IDs'),
});

export type RedriveResult = z.output<typeof redriveResultSchema>;
