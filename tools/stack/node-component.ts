import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LineListener, type ManagedProcess, spawnManaged } from '../shared/processes';

// Compiled next to us: dist/tools/stack/x.js. The product is compiled to dist/src, the tooling to dist/tools.
const DIST = resolve(__dirname, '..', '..');
const TOOLING = new Set(['mock', 'bench', 'chaos', 'loadtest', 'stack', 'cluster']);

/** A compiled script by its path below src/ or tools/: 'api/main.js' -> dist/src/api/main.js, 'mock/main.js' -> dist/tools/mock/main.js. */
export function distPath(script: string): string {
  const top = script.split('/')[0] ?? '';
  return resolve(DIST, TOOLING.has(top) ? 'tools' : 'src', script);
}

/** The compiled entry point of a txflow process (api, worker, all-in-one, mock). */
export function distScript(component: string): string {
  const script = distPath(`${component}/main.js`);
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  return script;
}

/**
 * V8 flags per txflow process. V8 sizes a heap from the machine's memory and collects lazily below that, so an
 * uncapped worker or API kept 100+ MB of garbage under load; capped, each stays under 250 MB RSS through a
 * 10,000-transaction run (README, Performance). package.json's scripts and the Dockerfile pass the same flags
 * (test/stack.test.ts checks they agree).
 */
const CAPPED_HEAP = ['--max-old-space-size=128', '--max-semi-space-size=4'];
export const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  api: CAPPED_HEAP,
  worker: CAPPED_HEAP,
  // API and worker share one heap with the same cap (capped, the worker's own used 30-50 MB under load).
  'all-in-one': CAPPED_HEAP,
};

/**
 * Environment defaults per txflow process. glibc gives each thread that allocates its own malloc arena (up to
 * 8 per core); the worker runs a dozen threads or more (Node's, V8's, the Rust core's), and their arenas held
 * 20-40 MB that were freed but never returned. Two arenas cut the worker's peak RSS (README, Performance) at
 * no measurable cost in throughput. A value already in the environment wins (empty counts as unset).
 * package.json's scripts and the Dockerfile's entry point set the same.
 */
const FEW_ARENAS = { MALLOC_ARENA_MAX: '2' };
export const NODE_ENV_DEFAULTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  api: FEW_ARENAS,
  worker: FEW_ARENAS,
  'all-in-one': FEW_ARENAS,
};

/** Node's arguments for one txflow process: its V8 flags, then its entry point. */
export function nodeArgs(component: string): string[] {
  return [...(NODE_FLAGS[component] ?? []), distScript(component)];
}

/** One txflow process's environment: `env`, with its defaults (NODE_ENV_DEFAULTS) where unset or empty. */
export function nodeEnv(component: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const merged = { ...env };
  for (const [name, value] of Object.entries(NODE_ENV_DEFAULTS[component] ?? {})) {
    if (!merged[name]) merged[name] = value;
  }
  return merged;
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
  /** Which entry point: api, worker, all-in-one or mock. */
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
    args: nodeArgs(options.component),
    env: nodeEnv(options.component, options.env),
    detached: options.detached,
    onLine: options.onLine,
    logFile: options.logFile,
  });
}
