import { z } from 'zod';
import { ConfigError, httpUrl, integer, parseEnv } from './env';
import type { PostingClientOptions } from '../posting/posting-client';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** "429,503": HTTP statuses, each 400-599; empty or "none" for none. */
const statusList = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((raw, ctx) => {
      if (raw.trim() === 'none') return [];
      const items = raw.split(',').map((item) => item.trim());
      for (const item of items) {
        if (!/^[45]\d\d$/.test(item)) {
          ctx.addIssue({
            code: 'custom',
            message: `must be HTTP statuses 400-599, comma separated ("${item}")`,
          });
        }
      }
      return items.map(Number);
    });

export const postingSchema = {
  POSTING_SERVICE_URL: httpUrl('http://127.0.0.1:8080'),
  POSTING_TIMEOUT_MS: integer(5_000, 50, 600_000),
  POSTING_AMOUNT_FORMAT: z
    .enum(['number', 'string'], { message: 'must be number or string' })
    .default('number'),
  POSTING_CONNECTIONS: integer(64, 1, 10_000),
  /** `none` sends no key. */
  POSTING_IDEMPOTENCY_HEADER: z
    .string()
    .regex(HEADER_NAME, { message: 'must be an HTTP header name such as Idempotency-Key, or none' })
    .default('Idempotency-Key'),
  POSTING_NOT_PROCESSED_STATUSES: statusList('429,503'),
};

/** How long a POST whose outcome is unknown may still land; checked against the POST timeout. */
export const writeSettleSchema = {
  POSTING_TIMEOUT_MS: postingSchema.POSTING_TIMEOUT_MS,
  POSTING_WRITE_SETTLE_MS: integer(30_000, 50, 24 * 3_600_000),
};

/**
 * The write-settle window. It must be at least the POST timeout: a service still working on a POST when the
 * client gives up writes, at the soonest, right then.
 */
export function writeSettleMs(env = process.env): number {
  const e = parseEnv(writeSettleSchema, env);
  if (e.POSTING_WRITE_SETTLE_MS < e.POSTING_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid configuration:\n  POSTING_WRITE_SETTLE_MS=${JSON.stringify(env.POSTING_WRITE_SETTLE_MS ?? '')}: ` +
        `must be at least POSTING_TIMEOUT_MS (${e.POSTING_TIMEOUT_MS})`,
    );
  }
  return e.POSTING_WRITE_SETTLE_MS;
}

export function postingSettings(env = process.env): PostingClientOptions {
  const e = parseEnv(postingSchema, env);
  writeSettleMs(env);
  return {
    baseUrl: e.POSTING_SERVICE_URL,
    timeoutMs: e.POSTING_TIMEOUT_MS,
    amountFormat: e.POSTING_AMOUNT_FORMAT,
    connections: e.POSTING_CONNECTIONS,
    idempotencyHeader: e.POSTING_IDEMPOTENCY_HEADER === 'none' ? null : e.POSTING_IDEMPOTENCY_HEADER,
    notProcessedStatuses: e.POSTING_NOT_PROCESSED_STATUSES,
  };
}
