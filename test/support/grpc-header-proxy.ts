import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * A plain-text HTTP/2 proxy for gRPC to `target` (host:port) that records each call's path and request
 * headers, so a test can see the metadata a Temporal client really sends (e.g. `authorization`). Streams are
 * forwarded one to one: request headers and body up, response headers, body and trailers down.
 */
export interface GrpcHeaderProxy {
  address: string;
  calls: { path: string; authorization: string | undefined; userAgent: string | undefined }[];
  /** The paths of the calls open now (not yet ended or cancelled), e.g. to see a long-poll cancelled. */
  openCalls(): string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings']);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export async function startGrpcHeaderProxy(target: string): Promise<GrpcHeaderProxy> {
  const upstream = http2.connect(`http://${target}`);
  upstream.on('error', () => undefined);
  const calls: GrpcHeaderProxy['calls'] = [];
  const open = new Map<http2.ServerHttp2Stream, string>();
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });

  server.on('stream', (stream, headers) => {
    const authorization = headers.authorization;
    calls.push({
      path: String(headers[':path']),
      authorization: Array.isArray(authorization) ? authorization.join(',') : authorization,
      userAgent: headers['user-agent'],
    });
    open.set(stream, String(headers[':path']));
    const { ':authority': _authority, ':scheme': _scheme, ...rest } = forwardable(headers);
    const up = upstream.request(rest);
    let trailers: OutgoingHttpHeaders = {};
    stream.pipe(up);
    up.on('response', (responseHeaders, flags) => {
      if (stream.destroyed) return;
      // A trailers-only answer (a gRPC error) ends with its headers.
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) {
        stream.respond(forwardable(responseHeaders), { endStream: true });
        return;
      }
      stream.respond(forwardable(responseHeaders), { waitForTrailers: true });
      up.pipe(stream);
    });
    up.on('trailers', (t) => (trailers = forwardable(t)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.on('close', () => {
      open.delete(stream);
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
    // Only an upstream reset is passed on; a normal end arrives through the pipe and the trailers.
    up.on('close', () => {
      if (up.rstCode && !stream.closed) stream.close(up.rstCode);
    });
    stream.on('error', () => undefined);
    up.on('error', () => undefined);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    calls,
    openCalls: () => [...open.values()],
    close() {
      for (const s of sessions) s.destroy();
      upstream.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
