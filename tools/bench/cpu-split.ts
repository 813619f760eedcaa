import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuSplit {
  server: number[];
  clients: number[];
}

/**
 * The Temporal server's CPUs and everyone else's: the first half and the rest. On a shared machine the load
 * generator, the API and the worker take CPU the server would use, and the raw baseline (one light client)
 * takes less of it than txflow's extra process does; split, each side measures against a server with the
 * same CPU, as when the API and workers run on their own machines.
 */
export function splitCpus(count = availableParallelism()): CpuSplit {
  if (count < 2) throw new Error(`--pin needs at least 2 CPUs; this machine has ${count}`);
  const half = Math.floor(count / 2);
  const all = Array.from({ length: count }, (_, i) => i);
  return { server: all.slice(0, half), clients: all.slice(half) };
}

/** Pins every thread of `pid` to `cpus` (Linux taskset); processes it starts later inherit that. */
export function pinProcess(pid: number, cpus: readonly number[]): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { stdio: 'ignore' });
}
