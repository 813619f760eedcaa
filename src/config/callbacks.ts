import { z } from 'zod';
import { callbackUrlProblem } from '../callbacks/callback-url';
import type { CallbackPolicy } from '../domain/callbacks';
import { ConfigError, integer, parseEnv } from './env';

const HOUR = 3_600_000;
const list = (raw: string) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

export const callbacksSchema = {
  /** Signs every callback; set, the API accepts `callback_url` (both the API and the worker need it). */
  CALLBACK_SIGNING_SECRET: z
    .string()
    .regex(/^[\x21-\x7E]{16,256}$/, { message: 'must be 16-256 visible ASCII characters' })
    .optional(),
  /** Comma-separated URLs that get every transaction's final status. */
  CALLBACK_SUBSCRIBER_URLS: z.string().transform(list).default([]),
  /** Comma-separated host[:port] that callbacks may reach over http, and at internal addresses. */
  CALLBACK_ALLOWED_HOSTS: z
    .string()
    .transform(list)
    .refine((hosts) => hosts.every((h) => /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/.test(h)), {
      message: 'must be a comma-separated list of host[:port]',
    })
    .default([]),
  CALLBACK_RETRY_WINDOW_MS: integer(24 * HOUR, 1_000, 30 * 24 * HOUR),
  CALLBACK_TIMEOUT_MS: integer(5_000, 100, 60_000),
};

export interface CallbackSettings {
  /** Unset: callbacks are off (the API refuses callback_url; the worker cannot sign). */
  signingSecret: string | undefined;
  subscribers: string[];
  allowedHosts: string[];
  policy: CallbackPolicy;
}

const MAX_SUBSCRIBERS = 10;

/** The callback settings, shared by the API (what to accept and announce) and the worker (how to send). */
export function callbackSettings(env = process.env): CallbackSettings {
  const e = parseEnv(callbacksSchema, env);
  const problems: string[] = [];
  const shown = (name: string) => JSON.stringify(env[name] ?? '');
  e.CALLBACK_SUBSCRIBER_URLS.forEach((url, i) => {
    const problem = callbackUrlProblem(url, e.CALLBACK_ALLOWED_HOSTS);
    if (problem)
      problems.push(
        `  CALLBACK_SUBSCRIBER_URLS=${shown('CALLBACK_SUBSCRIBER_URLS')}: URL ${i + 1} ${problem}`,
      );
  });
  if (e.CALLBACK_SUBSCRIBER_URLS.length > MAX_SUBSCRIBERS) {
    problems.push(
      `  CALLBACK_SUBSCRIBER_URLS=${shown('CALLBACK_SUBSCRIBER_URLS')}: at most ${MAX_SUBSCRIBERS} URLs`,
    );
  }
  if (e.CALLBACK_SUBSCRIBER_URLS.length > 0 && e.CALLBACK_SIGNING_SECRET === undefined) {
    problems.push('  CALLBACK_SIGNING_SECRET="": is required when CALLBACK_SUBSCRIBER_URLS is set');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return {
    signingSecret: e.CALLBACK_SIGNING_SECRET,
    subscribers: e.CALLBACK_SUBSCRIBER_URLS,
    allowedHosts: e.CALLBACK_ALLOWED_HOSTS,
    policy: {
      windowMs: e.CALLBACK_RETRY_WINDOW_MS,
      timeoutMs: e.CALLBACK_TIMEOUT_MS,
      initialIntervalMs: 1_000,
      maxIntervalMs: 10 * 60_000,
    },
  };
}

/**
 * What the metadata of one transaction may add up to across its callback endpoints: each endpoint's delivery
 * carries the event (the transaction's view, metadata included) twice, as its input and its memo, and every
 * delivery is started in the run's last workflow task, which must stay well under Temporal's 4 MiB request limit.
 */
export const CALLBACK_METADATA_BUDGET_BYTES = 1024 * 1024;

/**
 * Refuses METADATA_LIMIT_BYTES that, with a client's callback_url and every subscriber, could make a run that can
 * never close (its last workflow task too large to complete). Only when callbacks are on.
 */
export function assertCallbackBudget(
  metadataLimitBytes: number,
  callbacks: CallbackSettings | undefined,
): void {
  if (callbacks?.signingSecret === undefined) return;
  const endpoints = 1 + callbacks.subscribers.length;
  if (metadataLimitBytes * endpoints <= CALLBACK_METADATA_BUDGET_BYTES) return;
  throw new ConfigError(
    `Invalid configuration:\n  METADATA_LIMIT_BYTES=${JSON.stringify(String(metadataLimitBytes))}: with callbacks ` +
      `on, times the ${endpoints} endpoints a transaction can announce to (its callback_url and ` +
      `${callbacks.subscribers.length} CALLBACK_SUBSCRIBER_URLS) it must be at most ` +
      `${CALLBACK_METADATA_BUDGET_BYTES} bytes: at most ${Math.floor(CALLBACK_METADATA_BUDGET_BYTES / endpoints)}`,
  );
}
