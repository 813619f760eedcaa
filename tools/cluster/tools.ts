// The three Go programs the cluster runs, pinned and built from source like the Temporal CLI (tools/stack).
// Measured here: the server 4 min 54 s (128 MB), the SQL tool 9 s, the UI server 40 s.
import { type GoTool, obtainGoTool, type ObtainGoToolOptions } from '../stack/go-tool';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export const TEMPORAL_SERVER: GoTool = {
  name: 'temporal-server',
  title: 'the Temporal server',
  pkg: 'go.temporal.io/server/cmd/server',
  version: TEMPORAL_SERVER_VERSION,
  expected: '~5 min',
};

/** temporal-sql-tool: creates and migrates the databases. */
export const TEMPORAL_SQL_TOOL: GoTool = {
  name: 'temporal-sql-tool',
  title: 'temporal-sql-tool',
  pkg: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER_VERSION,
  expected: '~10 s after the server',
};

/** The Web UI server with its assets compiled in. Its binary is also called `server`: its own folder. */
export const TEMPORAL_UI_SERVER: GoTool = {
  name: 'temporal-ui-server',
  title: 'the Temporal Web UI server',
  pkg: 'github.com/temporalio/ui-server/v2/cmd/server',
  version: 'v2.42.1',
  expected: '~1 min',
};

export interface ClusterTools {
  server: string;
  sqlTool: string;
  uiServer: string;
}

/** Finds or builds the three, one after the other (each build takes the machine's cores). */
export async function obtainClusterTools(options: ObtainGoToolOptions = {}): Promise<ClusterTools> {
  const server = await obtainGoTool(TEMPORAL_SERVER, options);
  const sqlTool = await obtainGoTool(TEMPORAL_SQL_TOOL, options);
  const uiServer = await obtainGoTool(TEMPORAL_UI_SERVER, options);
  return { server, sqlTool, uiServer };
}
