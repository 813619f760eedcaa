import type { FaultPatch } from '../../tools/mock/config';
import { startMock, type RunningMock } from './mock-server';

/** The mock posting service that also notes when each downstream call (GET/POST /transactions…) arrived. */
export interface CountingMock extends RunningMock {
  /** Arrival times (ms since epoch) of the calls txflow makes: checks, posts and looks. */
  calls: number[];
}

export async function startCountingMock(patch: FaultPatch = {}): Promise<CountingMock> {
  const calls: number[] = [];
  const mock = await startMock(patch, (req) => {
    if (req.path.startsWith('/transactions')) calls.push(Date.now());
  });
  return { ...mock, calls };
}

/** The most calls in any window of `windowMs` (sliding, starting at each call). */
export function maxInWindow(calls: readonly number[], windowMs: number): number {
  const sorted = [...calls].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}
