import { createServer } from 'node:net';

/** A port the OS just handed out on `host`; free now, though nothing reserves it for the caller. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface PortNeed {
  port: number;
  /** What will listen there, for the error message, e.g. 'Temporal gRPC'. */
  purpose: string;
  host?: string;
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** Fails with one message naming every busy port, before anything is started. */
export async function assertPortsFree(needs: PortNeed[]): Promise<void> {
  const busy: PortNeed[] = [];
  for (const need of needs) {
    if (!(await isPortFree(need.port, need.host))) busy.push(need);
  }
  if (busy.length === 0) return;
  const lines = busy.map((n) => `  - ${n.host ?? '127.0.0.1'}:${n.port} (${n.purpose})`);
  throw new PortInUseError(
    `Port${busy.length > 1 ? 's' : ''} already in use:\n${lines.join('\n')}\n` +
      'Stop whatever listens there (perhaps an earlier run still going), or choose other ports.',
  );
}
