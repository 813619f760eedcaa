import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../tools/shared/ports';
import { spawnManaged, type ManagedProcess } from '../../tools/shared/processes';
import { testTemporalAddress } from './temporal';

const STACK_MAIN = path.join(__dirname, '..', '..', 'tools', 'stack', 'main.js');

export interface RunningStack {
  process: ManagedProcess;
  /** The API's base URL. */
  url: string;
  /** Every output line so far (the process's tail keeps only the last ones). */
  lines: string[];
  /** The worker's /metrics: WORKER_METRICS_ADDRESS from `env`, else a free port (never npm start's default). */
  workerMetricsUrl: string;
}

/**
 * `npm start` (dist/tools/stack/main.js) as a real process on the test Temporal server (TEMPORAL_ADDRESS: it
 * starts no dev server) with `env` added: the API and the worker's metrics on free ports. Not waited for.
 */
export async function spawnStack(env: Record<string, string>): Promise<RunningStack> {
  const port = await freePort();
  const metricsAddress = env.WORKER_METRICS_ADDRESS ?? `127.0.0.1:${await freePort()}`;
  const lines: string[] = [];
  const proc = spawnManaged({
    name: 'stack',
    command: process.execPath,
    args: [STACK_MAIN],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '2000',
      WORKER_SHUTDOWN_GRACE_MS: '2000',
      CHECK_RETRY_INITIAL_INTERVAL_MS: '50',
      POST_RETRY_INITIAL_INTERVAL_MS: '50',
      LOG_LEVEL: 'info',
      ...env,
      WORKER_METRICS_ADDRESS: metricsAddress,
    },
    onLine: (line) => lines.push(line),
    tailLines: 400,
  });
  return {
    process: proc,
    url: `http://127.0.0.1:${port}`,
    lines,
    workerMetricsUrl: `http://${metricsAddress}/metrics`,
  };
}

/** Pids of `parent`'s child processes whose command line contains `needle` (Linux /proc). */
export function childPids(parent: number, needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (in parentheses, which may hold spaces): state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}
