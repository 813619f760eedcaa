import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createMockApp } from '../../tools/mock/app';
import { mockSettings, type FaultPatch } from '../../tools/mock/config';
import { Faults } from '../../tools/mock/faults';
import { TransactionStore } from '../../tools/mock/store';
import type { RunningMock } from './mock-server';

/** The mock posting service that also notes when each downstream call (GET/POST /transactions…) arrived. */
export interface CountingMock extends RunningMock {
  /** Arrival times (ms since epoch) of the calls txflow makes: checks, posts and looks. */
  calls: number[];
}

export async function startCountingMock(patch: FaultPatch = {}): Promise<CountingMock> {
  const store = new TransactionStore();
  const faults = new Faults({ ...mockSettings({}, () => 42).faults, ...patch });
  const calls: number[] = [];
  const app = express();
  app.use((req, _res, next) => {
    if (req.path.startsWith('/transactions')) calls.push(Date.now());
    next();
  });
  app.use(createMockApp({ store, faults }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    faults,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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
