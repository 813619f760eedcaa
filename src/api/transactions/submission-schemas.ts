import { z } from 'zod';
import { holdsAsDouble } from '../../domain/decimal';
import { isCurrency, parseAmount } from '../../domain/money';
import { TRANSACTION_ID } from '../../domain/transaction';
import { callbackUrlField, type CallbackRules } from '../events/callback-url-field';

/** Metadata keys refused at any depth: they could reach an object's prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Top-level metadata keys refused: the fields txflow posts (the accounts travel in the posted metadata), which a
 * downstream could read from metadata instead of what txflow validated. The API dialect takes snake_case only.
 */
export const RESERVED_METADATA_KEYS: ReadonlySet<string> = new Set([
  'id',
  'amount',
  'currency',
  'description',
  'timestamp',
  'source_account',
  'destination_account',
]);
const MAX_METADATA_DEPTH = 5;

// A URL resolves "." and ".." as path segments: /transactions/.. would reach the downstream as GET /. A pattern
// rather than a refine, so the OpenAPI document states it too.
const NOT_A_DOT_SEGMENT = /^(?!\.\.?$)/;

export const transactionId = z
  .string({ message: 'must be a string' })
  .regex(TRANSACTION_ID, { message: 'must be 1-128 characters of A-Z a-z 0-9 . _ : -' })
  .regex(NOT_A_DOT_SEGMENT, { message: 'must not be "." or "..", which a URL path resolves away' });

export const currency = z
  .string({ message: 'must be a string' })
  .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as "EUR"' })
  .refine(isCurrency, { message: 'is not a known ISO 4217 currency' });

const amount = z.union([z.string(), z.number()], { message: 'must be a decimal string or a number' });

const account = z
  .string({ message: 'must be a string' })
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, { message: 'must be 1-64 characters of A-Z a-z 0-9 . _ : -' });

// Invisible characters that can make text read differently from what it holds ("Trojan Source"): bidi
// embeddings, overrides and isolates, zero-width space, word joiner and invisible operators, BOM. ZWJ/ZWNJ and
// the LRM/RLM/ALM marks stay allowed: real scripts and emoji need them.
const DECEPTIVE = /[\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

// Printable text without control characters, for descriptions shown to people.
const text = (max: number) =>
  z
    .string({ message: 'must be a string' })
    .max(max, { message: `must be at most ${max} characters` })
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/.test(s), {
      message: 'must not contain control characters',
    })
    .refine((s) => !DECEPTIVE.test(s), {
      message: 'must not contain invisible or bidirectional-override characters',
    })
    .refine((s) => s.isWellFormed(), { message: 'must be well-formed Unicode' });

const timestamp = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z',
});

// Checked on the raw parsed JSON: a record schema would silently drop a "__proto__" key instead of refusing it.
function metadata(limitBytes: number) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return;
      }
      // Each reserved key is named on its own (body.metadata.destination_account).
      for (const key of Object.keys(value)) {
        if (RESERVED_METADATA_KEYS.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is a field txflow posts itself: metadata must not set it',
          });
        }
      }
      const problem = metadataProblem(value, 1);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      else if (Buffer.byteLength(JSON.stringify(value)) > limitBytes) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${limitBytes} bytes as JSON` });
      }
    })
    .transform((value) => value as Record<string, unknown>);
}

function metadataProblem(value: unknown, depth: number): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_METADATA_DEPTH) return `must be nested at most ${MAX_METADATA_DEPTH} levels deep`;
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `must not use the key "${key}"`;
    // Lone surrogates pass through JSON.parse but break the downstream's JSON decoders.
    if (!key.isWellFormed() || (typeof child === 'string' && !child.isWellFormed())) {
      return 'must hold well-formed Unicode only';
    }
    const problem = metadataProblem(child, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** How the worker sends the amount downstream (POSTING_AMOUNT_FORMAT). */
export type AmountFormat = 'number' | 'string';

/**
 * Amount rules depend on the currency: checked once both fields are known good. Sent downstream as a JSON
 * number, the amount must also be one a double-based JSON reader takes exactly.
 */
function amountRule(format: AmountFormat) {
  return (value: { amount: string | number; currency: string }, ctx: z.RefinementCtx) => {
    // zod runs this even when other fields failed: judge the amount only against a good currency.
    if (typeof value.currency !== 'string' || !isCurrency(value.currency)) return;
    const parsed = parseAmount(value.amount, value.currency);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['amount'], message: parsed.reason });
    else if (format === 'number' && !holdsAsDouble(parsed.amount)) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message:
          `goes downstream as a JSON number, which a JSON parser reads as ${String(Number(parsed.amount))}: ` +
          'lower the amount, or switch POSTING_AMOUNT_FORMAT to string',
      });
    }
  };
}

// One error parameter covers both what a strict object refuses: a non-object, and keys it does not know.
const objectError = (issue: { code?: string; keys?: readonly string[] }) =>
  issue.code === 'unrecognized_keys'
    ? `unknown field${issue.keys?.length === 1 ? '' : 's'} ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}`
    : 'must be a JSON object';

export function apiSubmissionSchema(
  metadataLimitBytes: number,
  amountFormat: AmountFormat = 'number',
  callbacks?: CallbackRules,
) {
  return z
    .strictObject(
      {
        id: transactionId.optional(),
        amount,
        currency,
        description: text(500).optional(),
        timestamp: timestamp.optional(),
        metadata: metadata(metadataLimitBytes).optional(),
        source_account: account.optional(),
        destination_account: account.optional(),
        callback_url: callbackUrlField(callbacks).optional(),
      },
      { error: objectError },
    )
    .superRefine(amountRule(amountFormat));
}

export function webhookSubmissionSchema(amountFormat: AmountFormat = 'number', callbacks?: CallbackRules) {
  return z
    .strictObject(
      {
        transaction_id: transactionId,
        source_account: account,
        destination_account: account,
        amount,
        currency,
        callback_url: callbackUrlField(callbacks).optional(),
      },
      { error: objectError },
    )
    .superRefine(amountRule(amountFormat));
}

export type ApiSubmissionBody = z.output<ReturnType<typeof apiSubmissionSchema>>;
export type WebhookSubmissionBody = z.output<ReturnType<typeof webhookSubmissionSchema>>;
