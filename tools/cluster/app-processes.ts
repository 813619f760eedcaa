// txflow's own processes in the cluster: the mock downstream, N workers on one task queue and M API instances
// on consecutive ports, each started from dist with its log file, and resolved once ready (the mock's and
// an API's health answer 200; a worker prints "worker running" once it polls).
import { join } from 'node:path';
import { isPortFree } from '../shared/ports';
import { type ManagedProcess, waitForHttpOk } from '../shared/processes';
import { isWorkerRunningLine, spawnTxflow, type TxflowProcess } from '../shared/txflow-process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AppProcessOptions {
  /** The environment every txflow child gets (Temporal address, namespace, task queue, downstream, ...). */
  env: NodeJS.ProcessEnv;
  /** Log files go here. */
  dir: string;
  onLine?: (name: string, line: string) => void;
}

function spawn(
  name: string,
  component: TxflowProcess,
  env: NodeJS.ProcessEnv,
  options: AppProcessOptions,
): ManagedProcess {
  return spawnTxflow({
    name,
    component,
    env,
    logFile: join(options.dir, `${name}.log`),
    // Own group: a terminal's Ctrl-C reaches only `npm run cluster`, which stops them in order.
    detached: true,
    onLine: options.onLine ? (line) => options.onLine?.(name, line) : undefined,
  });
}

/** After a kill -9 the port is free at once, but give a slow kernel a moment. */
async function portFreed(port: number): Promise<void> {
  for (let i = 0; i < 40 && !(await isPortFree(port)); i++) await sleep(250);
}

export async function startMock(
  port: number,
  extraEnv: NodeJS.ProcessEnv,
  options: AppProcessOptions,
): Promise<ManagedProcess> {
  const proc = spawn(
    'mock',
    'mock',
    { ...options.env, ...extraEnv, PORT: String(port), HOST: '127.0.0.1' },
    options,
  );
  await waitForHttpOk(`http://127.0.0.1:${port}/health`, { timeoutMs: 60_000, process: proc });
  return proc;
}

export async function startWorker(
  name: string,
  extraEnv: NodeJS.ProcessEnv,
  options: AppProcessOptions,
): Promise<ManagedProcess> {
  const proc = spawn(name, 'worker', { ...options.env, ...extraEnv }, options);
  await proc.waitForLine(isWorkerRunningLine, 180_000, 'its "worker running" line');
  return proc;
}

export async function startApi(
  name: string,
  port: number,
  extraEnv: NodeJS.ProcessEnv,
  options: AppProcessOptions,
): Promise<ManagedProcess> {
  await portFreed(port);
  const proc = spawn(
    name,
    'api',
    { ...options.env, ...extraEnv, PORT: String(port), HOST: '127.0.0.1' },
    options,
  );
  await waitForHttpOk(`http://127.0.0.1:${port}/api/health`, { timeoutMs: 90_000, process: proc });
  return proc;
}
