import { z } from 'zod';
import { integer, parseEnv } from './env';

/**
 * Downstream calls per second across all workers of the task queue (Temporal enforces it, see
 * docs/decisions/0008); unset: no cap. An operator's value set at run time (PUT /api/admin/posting-rate) wins.
 */
export const postingMaxPerSecond = () =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, { message: 'must be a positive number, e.g. 5 or 0.5' })
    .transform(Number)
    .pipe(
      z
        .number()
        .gt(0, { message: 'must be above 0 (unset it for no cap)' })
        .max(100_000, { message: 'must be at most 100000' }),
    )
    .optional();

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
  POSTING_MAX_PER_SECOND: postingMaxPerSecond(),
};

export interface WorkerSettings {
  shutdownGraceMs: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
  metricsAddress: string | undefined;
  /** POSTING_MAX_PER_SECOND: the task queue's activity rate this worker asks for; unset: none. */
  postingMaxPerSecond?: number | undefined;
}

export function workerSettings(env = process.env): WorkerSettings {
  const e = parseEnv(workerSchema, env);
  return {
    shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    metricsAddress: e.WORKER_METRICS_ADDRESS,
    postingMaxPerSecond: e.POSTING_MAX_PER_SECOND,
  };
}
