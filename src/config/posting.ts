import { z } from 'zod';
import { httpUrl, integer, parseEnv } from './env';
import type { PostingClientOptions } from '../posting/posting-client';

export const postingSchema = {
  POSTING_SERVICE_URL: httpUrl('http://127.0.0.1:8080'),
  POSTING_TIMEOUT_MS: integer(5_000, 50, 600_000),
  POSTING_AMOUNT_FORMAT: z
    .enum(['number', 'string'], { message: 'must be number or string' })
    .default('number'),
  POSTING_CONNECTIONS: integer(64, 1, 10_000),
};

export function postingSettings(env = process.env): PostingClientOptions {
  const e = parseEnv(postingSchema, env);
  return {
    baseUrl: e.POSTING_SERVICE_URL,
    timeoutMs: e.POSTING_TIMEOUT_MS,
    amountFormat: e.POSTING_AMOUNT_FORMAT,
    connections: e.POSTING_CONNECTIONS,
  };
}
