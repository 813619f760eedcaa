import { integer, parseEnv } from './env';

export const workerSchema = {
  WORKER_SHUTDOWN_GRACE_MS: integer(30_000, 0, 3_600_000),
  WORKER_MAX_CONCURRENT_ACTIVITIES: integer(200, 1, 10_000),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: integer(100, 2, 10_000),
  WORKER_MAX_CACHED_WORKFLOWS: integer(1_000, 0, 100_000),
};

export interface WorkerSettings {
  shutdownGraceMs: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
}

export function workerSettings(env = process.env): WorkerSettings {
  const e = parseEnv(workerSchema, env);
  return {
    shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
  };
}
