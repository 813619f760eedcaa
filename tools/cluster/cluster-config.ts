// `npm run cluster` settings, from env, validated like every txflow process's (src/config): a bad value
// stops it with exit code 2 naming the variable.
import { z } from 'zod';
import { integer, name, parseEnv } from '../../src/config/env';
import { stackSchema } from '../stack/stack-config';
import { type PortLayout, portLayout } from './ports';

export const clusterSchema = {
  /** PostgreSQL that holds Temporal's two databases (trust auth on this machine: no password). */
  CLUSTER_PG_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:]+\]$/, { message: 'must be a host name or IP address' })
    .default('127.0.0.1'),
  CLUSTER_PG_PORT: integer(5432, 1, 65_535),
  CLUSTER_PG_USER: name('postgres'),
  CLUSTER_PG_PASSWORD: z.string().max(1_000).optional(),
  /** Database names are `<prefix>_temporal` and `<prefix>_temporal_visibility`: always txflow's own. */
  CLUSTER_DB_PREFIX: z
    .string()
    .regex(/^txflow[a-z0-9_]{0,40}$/, { message: 'must start with "txflow", then up to 40 of [a-z0-9_]' })
    .default('txflow'),
  /** Fixed when the databases are created: changing it later needs new databases. */
  CLUSTER_HISTORY_SHARDS: integer(4, 1, 16_384),
  /** First port of the Temporal server's block (see ports.ts): 7330-7350 by default, beside a dev server's 7233. */
  // At most 32747: Temporal keeps membership ports in a PostgreSQL smallint (a larger one stops the service).
  CLUSTER_PORT_BASE: integer(7330, 1_024, 32_747),
  CLUSTER_UI_PORT: integer(8330, 1, 65_535),
  /** The first API's port; the others follow it. */
  CLUSTER_API_PORT: integer(3100, 1, 65_500),
  CLUSTER_MOCK_PORT: integer(8180, 1, 65_535),
  CLUSTER_WORKERS: integer(2, 1, 32),
  CLUSTER_APIS: integer(2, 1, 32),
  /** `services`: frontend, history, matching and worker as four processes; `single`: one process. */
  CLUSTER_SERVER_MODE: z
    .enum(['services', 'single'], { message: 'must be services or single' })
    .default('services'),
  /** Config files and logs. */
  CLUSTER_DIR: z.string().min(1).default('./.data/cluster'),
  CLUSTER_RETENTION_DAYS: integer(3, 1, 3_650),
  TEMPORAL_NAMESPACE: name('default'),
  TASK_QUEUE: name('txflow'),
  /** Set: use that downstream and start no mock. */
  POSTING_SERVICE_URL: stackSchema.POSTING_SERVICE_URL,
};

export interface PostgresSettings {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  /** Temporal's own store and its visibility store. */
  databases: { temporal: string; visibility: string };
}

export interface ClusterSettings {
  postgres: PostgresSettings;
  historyShards: number;
  ports: PortLayout;
  uiPort: number;
  apiPorts: number[];
  mockPort: number;
  workers: number;
  serverMode: 'services' | 'single';
  dir: string;
  retentionDays: number;
  namespace: string;
  taskQueue: string;
  postingServiceUrl: string | undefined;
}

export function clusterSettings(env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  const e = parseEnv(clusterSchema, env);
  return {
    postgres: {
      host: e.CLUSTER_PG_HOST,
      port: e.CLUSTER_PG_PORT,
      user: e.CLUSTER_PG_USER,
      password: e.CLUSTER_PG_PASSWORD,
      databases: {
        temporal: `${e.CLUSTER_DB_PREFIX}_temporal`,
        visibility: `${e.CLUSTER_DB_PREFIX}_temporal_visibility`,
      },
    },
    historyShards: e.CLUSTER_HISTORY_SHARDS,
    ports: portLayout(e.CLUSTER_PORT_BASE),
    uiPort: e.CLUSTER_UI_PORT,
    apiPorts: Array.from({ length: e.CLUSTER_APIS }, (_, i) => e.CLUSTER_API_PORT + i),
    mockPort: e.CLUSTER_MOCK_PORT,
    workers: e.CLUSTER_WORKERS,
    serverMode: e.CLUSTER_SERVER_MODE,
    dir: e.CLUSTER_DIR,
    retentionDays: e.CLUSTER_RETENTION_DAYS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TASK_QUEUE,
    postingServiceUrl: e.POSTING_SERVICE_URL,
  };
}
