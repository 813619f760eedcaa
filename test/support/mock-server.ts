import express, { type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createMockApp } from '../../tools/mock/app';
import { mockSettings, type FaultPatch } from '../../tools/mock/config';
import { Faults } from '../../tools/mock/faults';
import { TransactionStore } from '../../tools/mock/store';

export interface RunningMock {
  url: string;
  store: TransactionStore;
  faults: Faults;
  stop(): Promise<void>;
}

/**
 * The bundled mock posting service on a free loopback port, reached over real HTTP. `onRequest` sees each request
 * before the mock answers it, and may answer it itself (returning true).
 */
export async function startMock(
  patch: FaultPatch = {},
  onRequest?: (req: Request, res: Response) => boolean | void,
): Promise<RunningMock> {
  const store = new TransactionStore();
  const faults = new Faults({ ...mockSettings({}, () => 42).faults, ...patch });
  const app = express();
  if (onRequest)
    app.use((req, res, next) => {
      // true: the hook answered itself (a fault the mock's settings do not have).
      if (onRequest(req, res) !== true) next();
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
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
