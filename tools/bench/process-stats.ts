import { readFile } from 'node:fs/promises';

export interface ProcessStats {
  /** Peak resident memory (VmHWM), MB. */
  peakRssMb: number;
  /** User + system CPU time, seconds. */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** Peak RSS and CPU time of a running process, from /proc (Linux only). */
export async function processStats(pid: number): Promise<ProcessStats | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return { peakRssMb: Math.round(hwmKb / 102.4) / 10, cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}
