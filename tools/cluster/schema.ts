// Creates and migrates Temporal's two PostgreSQL databases with temporal-sql-tool, the way Temporal's own
// auto-setup does: create-database, setup-schema -v 0.0 (the version tables), update-schema to the newest
// version in the server module's schema folder. Each step is idempotent, so a second run changes nothing.
import { join } from 'node:path';
import { findGo } from '../stack/go-tool';
import { runCommand } from '../stack/run-command';
import type { PostgresSettings } from './cluster-config';
import { TEMPORAL_SERVER_VERSION } from './tools';

export type StoreKind = 'temporal' | 'visibility';

/** Where update-schema reads its versioned SQL: a folder, or the copy embedded in the tool. */
export type SchemaSource = { dir: string } | { embedded: true };

/**
 * The server module's folder in the Go module cache (`go mod download -json` finds it, downloading it when
 * missing); undefined without Go, then the tool's embedded schema is used.
 */
export async function serverModuleDir(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const go = await findGo(env);
  if (!go) return undefined;
  const { stdout } = await runCommand(
    go,
    ['mod', 'download', '-json', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`],
    {
      env: { ...env, GOFLAGS: '-mod=mod' },
      timeoutMs: 300_000,
    },
  );
  const dir = (JSON.parse(stdout) as { Dir?: unknown }).Dir;
  return typeof dir === 'string' && dir !== '' ? dir : undefined;
}

/** The update-schema arguments for one store. */
export function schemaArgs(kind: StoreKind, moduleDir: string | undefined): string[] {
  const rel = `postgresql/v12/${kind}`;
  return moduleDir ? ['-d', join(moduleDir, 'schema', rel, 'versioned')] : ['--schema-name', rel];
}

function toolEnv(pg: PostgresSettings, database: string): NodeJS.ProcessEnv {
  // By env, not flags: a password never shows in `ps`.
  return {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password ?? '',
    SQL_DATABASE: database,
  };
}

export interface MigrateOptions {
  sqlTool: string;
  postgres: PostgresSettings;
  /** The server module's folder; undefined: the tool's embedded schema. */
  moduleDir: string | undefined;
  log?: (line: string) => void;
}

/** Creates (if missing) and migrates both databases to the schema of TEMPORAL_SERVER_VERSION. */
export async function migrateDatabases(options: MigrateOptions): Promise<void> {
  const { sqlTool, postgres } = options;
  const stores: [StoreKind, string][] = [
    ['temporal', postgres.databases.temporal],
    ['visibility', postgres.databases.visibility],
  ];
  for (const [kind, database] of stores) {
    const env = toolEnv(postgres, database);
    const run = (args: string[]) =>
      runCommand(sqlTool, args, {
        env,
        timeoutMs: 120_000,
        label: `temporal-sql-tool --db ${database} ${args.join(' ')}`,
      }).catch((err: Error) => {
        throw new Error(
          `${err.message}\nIs PostgreSQL running at ${postgres.host}:${postgres.port}, and may user ` +
            `${postgres.user} create databases? (CLUSTER_PG_HOST, CLUSTER_PG_PORT, CLUSTER_PG_USER, CLUSTER_PG_PASSWORD)`,
        );
      });
    await run(['create-database', '--defaultdb', 'postgres']);
    await run(['setup-schema', '-v', '0.0']);
    await run(['update-schema', ...schemaArgs(kind, options.moduleDir)]);
    options.log?.(`database ${database} (${kind}) is at the ${TEMPORAL_SERVER_VERSION} schema`);
  }
}

/** Drops both databases (tests start from nothing); the prefix rule keeps this to txflow's own. */
export async function dropDatabases(sqlTool: string, postgres: PostgresSettings): Promise<void> {
  for (const database of [postgres.databases.temporal, postgres.databases.visibility]) {
    if (!database.startsWith('txflow'))
      throw new Error(`refusing to drop ${database}: not a txflow database`);
    await runCommand(sqlTool, ['drop-database', '--defaultdb', 'postgres', '-f'], {
      env: toolEnv(postgres, database),
      label: `temporal-sql-tool --db ${database} drop-database`,
    });
  }
}
