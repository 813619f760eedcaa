import { z } from 'zod';
import { bool, decimal, httpUrl, integer, parseEnv, secretList } from './env';
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

export function apiSettings(env = process.env): ApiSettings {
  const e = parseEnv(apiSchema, env);
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
