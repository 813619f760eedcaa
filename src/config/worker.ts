import { z } from 'zod';
import { integer, parseEnv } from './env';
import { breakerSchema, breakerSettings } from './breaker';
import type { BreakerOptions } from '../posting/circuit-breaker';

export const workerSchema = {
  WORKER_SHUTDOWN_GRACE_MS: integer(30_000, 0, 3_600_000),
  WORKER_MAX_CONCURRENT_ACTIVITIES: integer(200, 1, 10_000),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: integer(100, 2, 10_000),
  WORKER_MAX_CACHED_WORKFLOWS: integer(1_000, 0, 100_000),
  /** host:port where the worker serves Prometheus metrics at /metrics; unset: no metrics endpoint. */
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'must be host:port, e.g. 0.0.0.0:9464' })
    .optional(),
  ...breakerSchema,
};

export interface WorkerSettings {
  shutdownGraceMs: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
  metricsAddress: string | undefined;
  /** The circuit breaker in front of the downstream (BREAKER_*); absent: none. */
  breaker?: BreakerOptions;
}

export function workerSettings(env = process.env): WorkerSettings {
  const e = parseEnv(workerSchema, env);
  return {
    shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    metricsAddress: e.WORKER_METRICS_ADDRESS,
    breaker: breakerSettings(env),
  };
}
