// Starting one txflow process (api, worker, all-in-one, reconcile, mock) from dist: every launcher and test
// goes through scripts/txflow.sh, the one place that holds the processes' Node/V8 flags and environment
// defaults (MALLOC_ARENA_MAX), as `npm run api` and the Docker image do. The script `exec`s node, so the
// process we hold is node itself: its PID, its RSS and the signals we send are the process's own.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type ManagedProcess, type SpawnOptions, spawnManaged } from './processes';

/** Compiled next to us (dist/tools/shared): dist is one level up from tools, the repo one above it. */
const DIST = resolve(__dirname, '..', '..');
export const TXFLOW_SCRIPT = join(DIST, '..', 'scripts', 'txflow.sh');

export const TXFLOW_PROCESSES = ['api', 'worker', 'all-in-one', 'reconcile', 'mock'] as const;
export type TxflowProcess = (typeof TXFLOW_PROCESSES)[number];

/** The compiled entry point the script runs: dist/src/<x>/main.js, the mock's dist/tools/mock/main.js. */
export function txflowMain(component: TxflowProcess): string {
  return join(DIST, component === 'mock' ? 'tools' : 'src', component, 'main.js');
}

/**
 * The command line and environment that start `component` with `args`: `sh scripts/txflow.sh <process> ...`,
 * with this Node binary first on PATH so that the script's `node` is the one running us.
 */
export function txflowCommand(
  component: TxflowProcess,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const main = txflowMain(component);
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const nodeDir = dirname(process.execPath);
  const path = env.PATH ? `${nodeDir}:${env.PATH}` : nodeDir;
  return { command: 'sh', args: [TXFLOW_SCRIPT, component, ...args], env: { ...env, PATH: path } };
}

export interface TxflowSpawnOptions extends Omit<SpawnOptions, 'command' | 'args' | 'name'> {
  component: TxflowProcess;
  /** Names it in messages and output prefixes (default: the component), e.g. `worker-2`. */
  name?: string;
  /** Arguments of the process itself (reconcile's flags). */
  args?: string[];
}

/** Starts one txflow process from dist (see the top of this file). */
export function spawnTxflow(options: TxflowSpawnOptions): ManagedProcess {
  const { component, name, args, env, ...rest } = options;
  return spawnManaged({ ...rest, name: name ?? component, ...txflowCommand(component, args, env) });
}

/** True for the worker's pino line `{"msg":"worker running",...}` (or a plain line saying so). */
export function isWorkerRunningLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === 'worker running';
  } catch {
    return line.includes('worker running');
  }
}
