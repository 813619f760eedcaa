import { freePort } from '../../tools/shared/ports';
import type { ManagedProcess } from '../../tools/shared/processes';
import { spawnTxflow } from '../../tools/shared/txflow-process';
import { testTemporalAddress } from './temporal';

export interface RunningAllInOne {
  process: ManagedProcess;
  /** The API's base URL. */
  url: string;
  /** Every output line so far (the process's tail keeps only the last ones). */
  lines: string[];
}

/**
 * The compiled all-in-one process (`npm run all-in-one`, same V8 flags) on a free port, its API listening and
 * its worker polling once this resolves. `env` adds to (or overrides) the test settings.
 */
export async function startAllInOneProcess(
  env: Record<string, string>,
  readyTimeoutMs = 90_000,
): Promise<RunningAllInOne> {
  const running = await spawnAllInOneProcess(env);
  await running.process.waitForLine((line) => line.includes('"msg":"all-in-one running"'), readyTimeoutMs);
  return running;
}

/** The same process, spawned and not waited for (a test of a start-up that must fail). */
export async function spawnAllInOneProcess(env: Record<string, string>): Promise<RunningAllInOne> {
  const port = await freePort();
  const lines: string[] = [];
  const proc = spawnTxflow({
    component: 'all-in-one',
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      PORT: String(port),
      HOST: '127.0.0.1',
      WORKER_SHUTDOWN_GRACE_MS: '10000',
      CHECK_RETRY_INITIAL_INTERVAL_MS: '50',
      POST_RETRY_INITIAL_INTERVAL_MS: '50',
      LOG_LEVEL: 'info',
      ...env,
    },
    onLine: (line) => lines.push(line),
  });
  return { process: proc, url: `http://127.0.0.1:${port}`, lines };
}
