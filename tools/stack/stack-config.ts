import { z } from 'zod';
import { apiSchema } from '../../src/config/api';
import { bool, integer, name, parseEnv } from '../../src/config/env';
import { workerSchema } from '../../src/config/worker';
import type { RestartPolicy } from './crash-loop';

/** Fixed local ports of the bundled pieces (the API's is PORT). */
export const MOCK_PORT = 8080;
export const TEMPORAL_PORT = 7233;
export const TEMPORAL_UI_PORT = 8233;
/** The worker's Prometheus endpoint (WORKER_METRICS_ADDRESS), on loopback unless that variable says otherwise. */
export const WORKER_METRICS_PORT = 9464;

const optionalHttpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+/, { message: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''))
  .optional();

const optionalHostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, { message: 'must be host:port' })
  .optional();

export const stackSchema = {
  PORT: integer(3000, 1, 65_535),
  /** Set: use that posting service and start no bundled mock. */
  POSTING_SERVICE_URL: optionalHttpUrl,
  /** Set: use that Temporal server and start no dev server. */
  TEMPORAL_ADDRESS: optionalHostPort,
  TEMPORAL_NAMESPACE: name('default'),
  TXFLOW_DATA_DIR: z.string().min(1).default('./.data'),
  /** true: the API and the worker as one all-in-one process (eager workflow start) instead of two. */
  TXFLOW_ALL_IN_ONE: bool(false),
  /** Host the API binds; we poll it on loopback when it binds every interface. */
  HOST: apiSchema.HOST,
  // Stop graces of the children, so we wait a little longer than each of them does.
  SHUTDOWN_GRACE_MS: apiSchema.SHUTDOWN_GRACE_MS,
  WORKER_SHUTDOWN_GRACE_MS: workerSchema.WORKER_SHUTDOWN_GRACE_MS,
  // The callback and downstream counters live on the worker's own /metrics: on by default here.
  WORKER_METRICS_ADDRESS: workerSchema.WORKER_METRICS_ADDRESS,
  // A worker or API that dies is restarted; this many deaths within the window is a crash loop: give up.
  TXFLOW_RESTART_MAX_CRASHES: integer(5, 1, 1_000),
  TXFLOW_RESTART_WINDOW_MS: integer(60_000, 1_000, 3_600_000),
  /** Wait before the first restart, doubled for each further crash in the window (at most 30 s). */
  TXFLOW_RESTART_BACKOFF_MS: integer(500, 0, 60_000),
};

const MAX_RESTART_BACKOFF_MS = 30_000;

export interface StackSettings {
  apiPort: number;
  apiHost: string;
  postingServiceUrl: string | undefined;
  temporalAddress: string | undefined;
  namespace: string;
  dataDir: string;
  allInOne: boolean;
  apiGraceMs: number;
  workerGraceMs: number;
  /** Where the worker (or the all-in-one process) serves /metrics: WORKER_METRICS_ADDRESS, else loopback. */
  workerMetrics: { address: string; host: string; port: number; url: string };
  restartPolicy: RestartPolicy;
}

export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const e = parseEnv(stackSchema, env);
  return {
    apiPort: e.PORT,
    apiHost: e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST,
    postingServiceUrl: e.POSTING_SERVICE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    dataDir: e.TXFLOW_DATA_DIR,
    allInOne: e.TXFLOW_ALL_IN_ONE,
    apiGraceMs: e.SHUTDOWN_GRACE_MS,
    workerGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    workerMetrics: metricsEndpoint(e.WORKER_METRICS_ADDRESS ?? `127.0.0.1:${WORKER_METRICS_PORT}`),
    restartPolicy: {
      maxCrashes: e.TXFLOW_RESTART_MAX_CRASHES,
      windowMs: e.TXFLOW_RESTART_WINDOW_MS,
      initialBackoffMs: e.TXFLOW_RESTART_BACKOFF_MS,
      maxBackoffMs: Math.max(MAX_RESTART_BACKOFF_MS, e.TXFLOW_RESTART_BACKOFF_MS),
    },
  };
}

function metricsEndpoint(address: string): StackSettings['workerMetrics'] {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  // Bound to every interface: scraped here on loopback.
  const local = host === '0.0.0.0' ? '127.0.0.1' : host;
  return { address, host, port, url: `http://${local}:${port}/metrics` };
}
