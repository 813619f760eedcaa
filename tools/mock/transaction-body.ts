import { z } from 'zod';
import { rawMember } from './raw-json';
import type { NewTransaction } from './store';

const DECIMAL = /^\d+(\.\d+)?$/;
const JSON_NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

const transactionSchema = z.object(
  {
    id: z
      .string({ message: 'must be a non-empty string' })
      .min(1, { message: 'must be a non-empty string' })
      .max(256, { message: 'must be at most 256 characters' }),
    amount: z.union([z.number(), z.string()], { message: 'must be a decimal number or string' }),
    currency: z
      .string({ message: 'must be a 3-letter currency code' })
      .regex(/^[A-Z]{3}$/, { message: 'must be a 3-letter currency code' }),
    description: z.string({ message: 'must be a string or null' }).nullish(),
    timestamp: z.string({ message: 'must be a string' }).optional(),
    metadata: z.record(z.string(), z.unknown(), { message: 'must be an object or null' }).nullish(),
  },
  { message: 'must be a JSON object' },
);

export type ParsedTransaction = { ok: true; transaction: NewTransaction } | { ok: false; error: string };

/** The body of POST /transactions, validated; `raw` (the body's bytes) keeps a JSON-number amount's digits. */
export function parseTransaction(body: unknown, raw: Buffer | undefined): ParsedTransaction {
  const parsed = transactionSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error) };
  const { amount, ...rest } = parsed.data;
  const text = typeof amount === 'string' ? amount : numberText(amount, raw);
  if (!DECIMAL.test(text) || !/[1-9]/.test(text)) {
    return { ok: false, error: 'amount: must be a positive decimal such as 150.50' };
  }
  return { ok: true, transaction: { ...rest, amount: text } };
}

/** The amount's digits as the client wrote them when the raw body shows them, else String(amount). */
function numberText(amount: number, raw: Buffer | undefined): string {
  if (raw !== undefined) {
    const text = rawMember(raw.toString('utf8'), 'amount');
    if (text !== undefined && JSON_NUMBER.test(text) && Number(text) === amount) return text;
  }
  return String(amount);
}

/** "field: message; field: message", naming the body itself when the issue has no path. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}
