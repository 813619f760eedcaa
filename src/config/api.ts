import { z } from 'zod';
import { bool, ConfigError, decimal, httpUrl, integer, parseEnv, secretList } from './env';
import { postingSchema } from './posting';

/** An http(s) URL without a trailing slash, or nothing. */
const optionalHttpUrl = () =>
  z
    .string()
    .url({ message: 'must be an http(s) URL' })
    .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional();

export const apiSchema = {
  PORT: integer(3000, 0, 65_535),
  HOST: z.string().min(1).default('127.0.0.1'),
  BODY_LIMIT_BYTES: integer(64 * 1024, 1_024, 10 * 1024 * 1024),
  METADATA_LIMIT_BYTES: integer(8 * 1024, 0, 1024 * 1024),
  /** Most transactions in one POST /api/transactions/batch; its body limit is derived from it (batch-body.ts). */
  API_BATCH_MAX_ITEMS: integer(1_000, 1, 10_000),
  /** How long a status read waits for a worker to answer the workflow query before using describe(). */
  QUERY_DEADLINE_MS: integer(60, 5, 10_000),
  /** Limit of one call to Temporal; a start that runs past it answers 503 (the client retries with its ID). */
  TEMPORAL_RPC_TIMEOUT_MS: integer(3_000, 100, 60_000),
  /** Longest `Prefer: wait=N` (POST) or `?wait=N` (GET) a client may ask for, in seconds; 0 turns waiting off. */
  API_MAX_WAIT_SECONDS: integer(30, 0, 600),
  /**
   * Most waits open at once in this process (each holds a long-poll call to Temporal and a socket); past it a
   * request is answered at once, as without the preference.
   */
  API_MAX_OPEN_WAITS: integer(1_000, 0, 100_000),
  HEALTH_WINDOW_MS: integer(5 * 60_000, 1_000, 24 * 3_600_000),
  /** The downstream that health probes (its GET /health); unset: no probe, only what Temporal shows. */
  POSTING_SERVICE_URL: optionalHttpUrl(),
  /** At most one downstream probe (and one sample of stalled transactions) per this many ms. */
  HEALTH_DOWNSTREAM_PROBE_MS: integer(5_000, 500, 600_000),
  HEALTH_DOWNSTREAM_TIMEOUT_MS: integer(1_000, 50, 60_000),
  /** A transaction still `processing` this long after its start counts as stalled (downstream failing or slow). */
  HEALTH_STALLED_AFTER_MS: integer(30_000, 1_000, 24 * 3_600_000),
  SHUTDOWN_GRACE_MS: integer(10_000, 0, 600_000),
  TEMPORAL_UI_URL: httpUrl('http://127.0.0.1:8233'),
  /** Comma-separated API keys; none means no authentication. */
  API_KEYS: secretList(16, 256),
  /** Requests per minute per client (API key, else IP address); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: integer(60_000, 0, 10_000_000),
  /** Serve GET /metrics (Prometheus); it needs a key like the API when API_KEYS is set. */
  METRICS_ENABLED: bool(true),
  /** Serve GET /openapi.json and the Swagger UI at /docs (both open, like health). */
  DOCS_ENABLED: bool(true),
  /** Set by `npm start`: the file where it counts its restarts of the worker and the API, shown in health. */
  TXFLOW_RESTARTS_FILE: z.string().min(1).optional(),
  /**
   * The worker's: how the amount goes downstream. The API reads the same variable to refuse, with `number`, an
   * amount a JSON number reader would not take exactly; set it alike for both.
   */
  POSTING_AMOUNT_FORMAT: postingSchema.POSTING_AMOUNT_FORMAT,
  /** Retries a bulk redrive (POST /api/transactions/retry) starts per second in this API process. */
  REDRIVE_MAX_PER_SECOND: decimal(20, 0.1, 10_000),
};

export interface ApiSettings {
  port: number;
  host: string;
  bodyLimitBytes: number;
  metadataLimitBytes: number;
  batchMaxItems: number;
  queryDeadlineMs: number;
  rpcTimeoutMs: number;
  maxWaitSeconds: number;
  maxOpenWaits: number;
  healthWindowMs: number;
  postingServiceUrl: string | undefined;
  healthDownstreamProbeMs: number;
  healthDownstreamTimeoutMs: number;
  healthStalledAfterMs: number;
  shutdownGraceMs: number;
  temporalUiUrl: string;
  apiKeys: string[];
  rateLimitPerMinute: number;
  metricsEnabled: boolean;
  docsEnabled: boolean;
  restartsFile: string | undefined;
  postingAmountFormat: 'number' | 'string';
  redriveMaxPerSecond: number;
}

// A valid item's fields other than metadata take under 8 KiB of JSON even with every character \u-escaped
// (description 500 characters: 3,000 bytes; id, accounts, amount, currency, timestamp and keys: under 2,500).
const ITEM_FIELDS_ALLOWANCE = 8 * 1024;

/** The largest batch body a configuration may allow: it is held in memory whole, about ten times over. */
export const MAX_BATCH_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The batch route's body limit: API_BATCH_MAX_ITEMS items of at most what a valid item can take (its metadata
 * limit plus the other fields, never more than the single body limit), and never below the single body limit.
 * With the defaults: 1,000 x 16 KiB = 16 MiB, against 64 MiB for 1,000 single body limits.
 */
export function batchBodyLimitBytes(limits: {
  maxItems: number;
  bodyLimitBytes: number;
  metadataLimitBytes: number;
}): number {
  const perItem = Math.min(limits.bodyLimitBytes, limits.metadataLimitBytes + ITEM_FIELDS_ALLOWANCE);
  return Math.max(limits.bodyLimitBytes, limits.maxItems * perItem);
}

export function apiSettings(env = process.env): ApiSettings {
  const e = parseEnv(apiSchema, env);
  // Each limit is fine alone; together they must not let one batch body exceed what the process can hold.
  const batchLimit = batchBodyLimitBytes({
    maxItems: e.API_BATCH_MAX_ITEMS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    metadataLimitBytes: e.METADATA_LIMIT_BYTES,
  });
  if (batchLimit > MAX_BATCH_BODY_BYTES) {
    const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
    throw new ConfigError(
      `Invalid configuration:\n  API_BATCH_MAX_ITEMS=${JSON.stringify(String(e.API_BATCH_MAX_ITEMS))}: with ` +
        `METADATA_LIMIT_BYTES=${e.METADATA_LIMIT_BYTES} and BODY_LIMIT_BYTES=${e.BODY_LIMIT_BYTES} one batch body ` +
        `could take ${mib(batchLimit)}, over ${mib(MAX_BATCH_BODY_BYTES)}: lower one of them`,
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    metadataLimitBytes: e.METADATA_LIMIT_BYTES,
    batchMaxItems: e.API_BATCH_MAX_ITEMS,
    queryDeadlineMs: e.QUERY_DEADLINE_MS,
    rpcTimeoutMs: e.TEMPORAL_RPC_TIMEOUT_MS,
    maxWaitSeconds: e.API_MAX_WAIT_SECONDS,
    maxOpenWaits: e.API_MAX_OPEN_WAITS,
    healthWindowMs: e.HEALTH_WINDOW_MS,
    postingServiceUrl: e.POSTING_SERVICE_URL,
    healthDownstreamProbeMs: e.HEALTH_DOWNSTREAM_PROBE_MS,
    healthDownstreamTimeoutMs: e.HEALTH_DOWNSTREAM_TIMEOUT_MS,
    healthStalledAfterMs: e.HEALTH_STALLED_AFTER_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    temporalUiUrl: e.TEMPORAL_UI_URL,
    apiKeys: e.API_KEYS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    metricsEnabled: e.METRICS_ENABLED,
    docsEnabled: e.DOCS_ENABLED,
    restartsFile: e.TXFLOW_RESTARTS_FILE,
    postingAmountFormat: e.POSTING_AMOUNT_FORMAT,
    redriveMaxPerSecond: e.REDRIVE_MAX_PER_SECOND,
  };
}
