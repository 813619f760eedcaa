import net, { type AddressInfo } from 'node:net';

/**
 * A TCP proxy on a free loopback port to `target` (host:port) that can be paused: while paused, bytes from the
 * client side are held (and counted) instead of forwarded, so a request to the target waits for as long as a
 * test wants, then goes through on resume().
 */
export interface PausableProxy {
  address: string;
  pause(): void;
  resume(): void;
  /** Bytes the clients sent since the last pause() and held back. */
  readonly heldBytes: number;
  close(): Promise<void>;
}

export async function startPausableProxy(target: string): Promise<PausableProxy> {
  const [host = '127.0.0.1', port = '0'] = target.split(/:(?=\d+$)/);
  let paused = false;
  let heldBytes = 0;
  const held: { chunk: Buffer; to: net.Socket }[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk) => {
      if (paused) {
        heldBytes += chunk.length;
        held.push({ chunk, to: upstream });
      } else upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${own}`,
    pause() {
      paused = true;
      heldBytes = 0;
    },
    resume() {
      paused = false;
      for (const { chunk, to } of held.splice(0)) to.write(chunk);
    },
    get heldBytes() {
      return heldBytes;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
