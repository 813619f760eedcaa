// The Temporal server's config for the local cluster: PostgreSQL (plugin postgres12) for both stores, the
// history shard count, and every service on its own ports of the block (ports.ts), all on loopback. One
// file serves every process: `server start --service=<name>` picks the service.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ClusterSettings, PostgresSettings } from './cluster-config';
import { TEMPORAL_SERVICES } from './ports';

/** `server --root <dir> --config config --env <ENV>` reads config/<ENV>.yaml. */
export const SERVER_CONFIG_ENV = 'txflow';
const CLUSTER_NAME = 'txflow';

function datastore(pg: PostgresSettings, database: string, maxConns: number): Record<string, unknown> {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${pg.host}:${pg.port}`,
      connectProtocol: 'tcp',
      user: pg.user,
      password: pg.password ?? '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

export function serverConfig(settings: ClusterSettings, dynamicConfigFile: string): Record<string, unknown> {
  const { ports, postgres } = settings;
  const services = Object.fromEntries(
    TEMPORAL_SERVICES.map((s) => [
      s,
      {
        rpc: {
          grpcPort: ports.services[s].grpc,
          membershipPort: ports.services[s].membership,
          bindOnLocalHost: true,
          ...(s === 'frontend' ? { httpPort: ports.frontendHttp } : {}),
        },
      },
    ]),
  );
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: settings.historyShards,
      datastores: {
        'postgres-default': datastore(postgres, postgres.databases.temporal, 20),
        'postgres-visibility': datastore(postgres, postgres.databases.visibility, 10),
      },
    },
    // No pprof or metrics listener: four processes would fight over one port.
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: CLUSTER_NAME,
      currentClusterName: CLUSTER_NAME,
      clusterInformation: {
        [CLUSTER_NAME]: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.services.frontend.grpc}`,
          httpAddress: `127.0.0.1:${ports.frontendHttp}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** Dynamic config: empty now, the place for levers (the file must exist for the server to start). */
const DYNAMIC_CONFIG = `# Temporal dynamic config for txflow's local cluster (keys: go.temporal.io/server common/dynamicconfig).
{}
`;

/** Writes config/<SERVER_CONFIG_ENV>.yaml and the dynamic config under `dir`; resolves the config folder. */
export async function writeServerConfig(settings: ClusterSettings, dir: string): Promise<string> {
  const configDir = join(dir, 'config');
  await mkdir(configDir, { recursive: true });
  const dynamicConfigFile = join(configDir, 'dynamicconfig.yaml');
  await writeFile(dynamicConfigFile, DYNAMIC_CONFIG);
  const header =
    '# Written by `npm run cluster` from its env settings (tools/cluster/server-config.ts): edits are overwritten.\n';
  await writeFile(
    join(configDir, `${SERVER_CONFIG_ENV}.yaml`),
    header + stringify(serverConfig(settings, dynamicConfigFile)),
    {
      mode: 0o600,
    },
  );
  return configDir;
}
