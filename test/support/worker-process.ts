import { freePort } from '../../tools/shared/ports';
import type { ManagedProcess } from '../../tools/shared/processes';
import { spawnTxflow } from '../../tools/shared/txflow-process';
import { testTemporalAddress } from './temporal';

export interface RunningWorkerProcess {
  process: ManagedProcess;
  /** Its Prometheus endpoint (WORKER_METRICS_ADDRESS). */
  metricsUrl: string;
}

/** The compiled worker (`npm run worker`, same V8 flags) as a real process, polling once this resolves. */
export async function startWorkerProcess(
  taskQueue: string,
  postingUrl: string,
  readyTimeoutMs: number,
  env: Record<string, string> = {},
): Promise<RunningWorkerProcess> {
  const port = await freePort();
  const worker = spawnTxflow({
    component: 'worker',
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TASK_QUEUE: taskQueue,
      POSTING_SERVICE_URL: postingUrl,
      WORKER_METRICS_ADDRESS: `127.0.0.1:${port}`,
      WORKER_SHUTDOWN_GRACE_MS: '2000',
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  await worker.waitForLine((line) => line.includes('"msg":"worker running"'), readyTimeoutMs);
  return { process: worker, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}
