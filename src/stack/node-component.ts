import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LineListener, type ManagedProcess, spawnManaged } from './processes';

/** The compiled entry point of a txflow process: dist/src/<component>/main.js (api, worker, mock). */
export function distScript(component: string): string {
  // Compiled next to us: dist/src/stack/x.js -> dist/src/<component>/main.js.
  const script = resolve(__dirname, '..', component, 'main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  return script;
}

/** True for the worker's pino line `{"msg":"worker running",...}` (or a plain line saying so). */
export function isWorkerRunningLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === 'worker running';
  } catch {
    return line.includes('worker running');
  }
}

export interface NodeComponentOptions {
  /** Names the process in messages and output prefixes, e.g. `worker-2`. */
  name: string;
  /** Which entry point: api, worker or mock. */
  component: string;
  env: NodeJS.ProcessEnv;
  onLine?: LineListener;
  logFile?: string;
  /** Own process group (see SpawnOptions.detached). */
  detached?: boolean;
}

/** Starts one txflow process from dist with this Node binary. */
export function spawnNodeComponent(options: NodeComponentOptions): ManagedProcess {
  return spawnManaged({
    name: options.name,
    command: process.execPath,
    args: [distScript(options.component)],
    env: options.env,
    detached: options.detached,
    onLine: options.onLine,
    logFile: options.logFile,
  });
}
