import { z } from 'zod';
import { ConfigError, integer, parseEnv } from './env';

/** Temporal refuses '.' and ':' in a deployment name (its version strings use them) and a leading '__'. */
export const DEPLOYMENT_NAME_RULE = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/,
  message: 'must be 1-200 of [A-Za-z0-9_-], starting with a letter or digit',
};
/** A release tag, a version or a commit. */
export const BUILD_ID_RULE = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/,
  message: 'must be 1-200 of [A-Za-z0-9._+-], starting with a letter or digit',
};

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
import { breakerSchema, breakerSettings } from './breaker';
import type { BreakerOptions } from '../posting/circuit-breaker';

export const workerSchema = {
  WORKER_SHUTDOWN_GRACE_MS: integer(30_000, 0, 3_600_000),
  WORKER_MAX_CONCURRENT_ACTIVITIES: integer(200, 1, 10_000),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: integer(100, 2, 10_000),
  WORKER_MAX_CACHED_WORKFLOWS: integer(1_000, 0, 100_000),
  /**
   * While new workflows arrive faster than the worker takes them, it starts none and finishes those in flight on
   * this many workflow-task slots; 0: every slot throughout (decision 0030).
   */
  WORKER_INTAKE_WORKFLOW_TASKS: integer(0, 0, 10_000),
  /** host:port where the worker serves Prometheus metrics at /metrics; unset: no metrics endpoint. */
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'must be host:port, e.g. 0.0.0.0:9464' })
    .optional(),
  /** Worker Deployment name, with WORKER_BUILD_ID (both or neither): the worker is versioned (decision 0022). */
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(DEPLOYMENT_NAME_RULE.pattern, { message: DEPLOYMENT_NAME_RULE.message })
    .optional(),
  /** This build of the worker: with the name, one Worker Deployment Version. */
  WORKER_BUILD_ID: z.string().regex(BUILD_ID_RULE.pattern, { message: BUILD_ID_RULE.message }).optional(),
  POSTING_MAX_PER_SECOND: postingMaxPerSecond(),
  ...breakerSchema,
};

/** A Worker Deployment Version, as Temporal names one. */
export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

export interface WorkerSettings {
  shutdownGraceMs: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
  /** Slots while intake outpaces the worker (IntakeFirstSlots); 0: the max throughout. */
  intakeWorkflowTasks: number;
  metricsAddress: string | undefined;
  /** Unset: an unversioned worker, which takes every task of the task queue not routed to a version. */
  version?: WorkerVersion;
  /** POSTING_MAX_PER_SECOND: the task queue's activity rate this worker asks for; unset: none. */
  postingMaxPerSecond?: number | undefined;
  /** The circuit breaker in front of the downstream (BREAKER_*); absent: none. */
  breaker?: BreakerOptions;
}

export function workerSettings(env = process.env): WorkerSettings {
  const e = parseEnv(workerSchema, env);
  const settings: WorkerSettings = {
    shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    intakeWorkflowTasks: e.WORKER_INTAKE_WORKFLOW_TASKS,
    metricsAddress: e.WORKER_METRICS_ADDRESS,
    postingMaxPerSecond: e.POSTING_MAX_PER_SECOND,
    breaker: breakerSettings(env),
  };
  const intake = e.WORKER_INTAKE_WORKFLOW_TASKS;
  if (intake > e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS) {
    throw new ConfigError(
      `Invalid configuration:\n  WORKER_INTAKE_WORKFLOW_TASKS=${JSON.stringify(env.WORKER_INTAKE_WORKFLOW_TASKS)}: ` +
        `must be at most WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (${e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS})`,
    );
  }
  // Without a cache there are no sticky polls, and giving way would take no workflow task at all.
  if (intake > 0 && e.WORKER_MAX_CACHED_WORKFLOWS === 0) {
    throw new ConfigError(
      `Invalid configuration:\n  WORKER_INTAKE_WORKFLOW_TASKS=${JSON.stringify(env.WORKER_INTAKE_WORKFLOW_TASKS)}: ` +
        'must be 0 when WORKER_MAX_CACHED_WORKFLOWS is 0 (no sticky polls to finish work in flight)',
    );
  }
  const name = e.WORKER_DEPLOYMENT_NAME;
  const buildId = e.WORKER_BUILD_ID;
  // One without the other is a half-done rollout: refuse it rather than run unversioned by surprise.
  if ((name === undefined) !== (buildId === undefined)) {
    const [missing, given] = name
      ? ['WORKER_BUILD_ID', 'WORKER_DEPLOYMENT_NAME']
      : ['WORKER_DEPLOYMENT_NAME', 'WORKER_BUILD_ID'];
    throw new ConfigError(
      `Invalid configuration:\n  ${missing}=${JSON.stringify(env[missing] ?? '')}: must be set with ${given} (both or neither)`,
    );
  }
  if (name && buildId) settings.version = { deploymentName: name, buildId };
  return settings;
}
