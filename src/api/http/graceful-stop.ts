import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface GracefulStopOptions {
  /** After this long, connections still open are cut. */
  graceMs: number;
  /** Called once when the grace runs out with connections still open. */
  onGraceOver?: (open: number) => void;
}

/**
 * Lets an HTTP server stop without waiting out its clients' keep-alive connections. Call it right after the
 * server is created; `stop()` then: stops accepting connections, closes idle keep-alive connections at once,
 * answers the requests in flight (and any that still arrive on open connections) with `Connection: close` so
 * each connection ends after its response, cuts what is left when the grace runs out, and resolves once the
 * server is closed.
 */
export function gracefulStopper(server: Server): { stop(options: GracefulStopOptions): Promise<void> } {
  let stopping = false;
  const inFlight = new Map<ServerResponse, Socket>();

  const closeAfter = (res: ServerResponse, socket: Socket) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    // Headers already out with keep-alive (a streamed answer): end the socket once this response is written.
    else res.once('finish', () => socket.end());
  };

  // Before the app's own listener, so the header is set before any handler can answer.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (stopping) {
      closeAfter(res, req.socket);
      return;
    }
    inFlight.set(res, req.socket);
    res.once('close', () => inFlight.delete(res));
  });

  return {
    stop({ graceMs, onGraceOver }) {
      stopping = true;
      for (const [res, socket] of inFlight) closeAfter(res, socket);
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          onGraceOver?.(inFlight.size);
          server.closeAllConnections();
        }, graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Keep-alive connections with no request on them: nothing to wait for.
        server.closeIdleConnections();
      });
    },
  };
}
