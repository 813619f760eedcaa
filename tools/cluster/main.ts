// `npm run cluster`: txflow on a local production topology, no Docker — Temporal 1.29.1 on PostgreSQL as
// separate frontend/history/matching/worker processes, its Web UI server, the mock, N workers and M API
// instances. Builds the pinned Go binaries on first use (with progress), prints every URL, and Ctrl-C
// stops everything (APIs first, Temporal last); if one process dies on its own, everything stops.
import { runMain } from '../../src/config/env';
import { commandLine, type CommandSpec } from '../shared/cli';
import { formatLogLine } from '../stack/log-format';
import { progressReporter } from '../shared/progress';
import { createPrefixedLogger } from '../stack/stack-logger';
import { Supervisor } from '../stack/supervisor';
import { obtainTemporalCli } from '../stack/temporal-cli';
import { clusterSettings } from './cluster-config';
import { describeCluster } from './describe';
import { startCluster } from './start-cluster';
import { obtainClusterTools } from './tools';

const print = (line: string) => process.stdout.write(`${line}\n`);
const log = createPrefixedLogger('cluster');

const COMMAND = {
  synopsis: 'npm run cluster',
  about: [
    'txflow on a local production topology, no Docker: Temporal 1.29.1 on PostgreSQL as separate frontend,',
    'history, matching and worker processes, its Web UI server, the mock, N workers and M API instances. Builds',
    'the pinned Go binaries on first use; set with env vars (docs/cluster.md). Ctrl-C stops everything.',
  ],
} satisfies CommandSpec;

void runMain(async () => {
  if (!commandLine(COMMAND)) return;
  const settings = clusterSettings();
  await Supervisor.run(log, 'the cluster', print, async (supervisor) => {
    const reporter = progressReporter(process.stderr);
    const cliPath = await obtainTemporalCli({ onProgress: reporter.onProgress, log });
    const tools = await obtainClusterTools({ onProgress: reporter.onProgress, log });
    reporter.done();
    const cluster = await startCluster({
      settings,
      tools,
      cliPath,
      log: (line) => log.info(line),
      onLine: (name, line) => print(formatLogLine(name, line)),
      // Temporal's and the UI's output goes to log files: show their last lines if they die.
      onStart: (name, proc) =>
        supervisor.supervise({
          name,
          process: proc,
          graceMs: name.startsWith('worker-') ? 40_000 : 15_000,
          showTailOnDeath: name.startsWith('temporal'),
        }),
    });
    print(describeCluster(cluster));
  });
});
