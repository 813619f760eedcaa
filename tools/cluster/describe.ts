import type { RunningCluster } from './start-cluster';

/** The "txflow cluster is running" block with every URL. */
export function describeCluster(cluster: RunningCluster): string {
  const { settings, urls, dir } = cluster;
  const pg = settings.postgres;
  const apis = urls.apis.map((url, i) => `  API ${String(i + 1).padEnd(11)}${url}  (test page ${url}/)`);
  const workers = [...cluster.processes.keys()].filter((n) => n.startsWith('worker-')).sort();
  const temporal = cluster.temporal.roles
    .map((r) => `${r} (pid ${cluster.process(r)?.pid ?? '?'})`)
    .join(', ');
  return [
    '',
    'txflow cluster is running:',
    ...apis,
    `  Temporal UI    ${urls.ui}`,
    `  Temporal       ${urls.temporal} (namespace ${settings.namespace}, ${settings.historyShards} history shards)`,
    `    processes    ${temporal}`,
    `    PostgreSQL   ${pg.host}:${pg.port}, databases ${pg.databases.temporal} and ${pg.databases.visibility}`,
    `  Workers        ${workers.length} on task queue ${settings.taskQueue}: ${workers.join(', ')}`,
    `  Posting        ${urls.posting}${settings.postingServiceUrl ? ' (external, from POSTING_SERVICE_URL)' : ' (bundled mock)'}`,
    `  Config, logs   ${dir}`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
