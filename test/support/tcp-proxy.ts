import net, { type AddressInfo } from 'node:net';

/**
 * A TCP proxy on a free loopback port to `target` (host:port) that can be paused: while paused, bytes from the
 * client side are held (and counted) instead of forwarded, so a request to the target waits for as long as a
 * test wants, then goes through on resume(). pauseAnswers() holds the target's side instead: a request
 * reaches the target and is acted on, and its answer is lost to the client until resume().
 */
export interface PausableProxy {
  address: string;
  pause(): void;
  pauseAnswers(): void;
  resume(): void;
  /** Bytes held back since the last pause() or pauseAnswers(). */
  readonly heldBytes: number;
  close(): Promise<void>;
}

export async function startPausableProxy(target: string): Promise<PausableProxy> {
  const [host = '127.0.0.1', port = '0'] = target.split(/:(?=\d+$)/);
  let paused: 'requests' | 'answers' | null = null;
  let heldBytes = 0;
  const held: { chunk: Buffer; to: net.Socket }[] = [];
  const sockets = new Set<net.Socket>();
  const forward = (from: net.Socket, to: net.Socket, direction: 'requests' | 'answers') =>
    from.on('data', (chunk: Buffer) => {
      if (paused === direction) {
        heldBytes += chunk.length;
        held.push({ chunk, to });
      } else to.write(chunk);
    });

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    forward(client, upstream, 'requests');
    forward(upstream, client, 'answers');
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  const pauseThe = (direction: 'requests' | 'answers') => {
    paused = direction;
    heldBytes = 0;
  };
  return {
    address: `127.0.0.1:${own}`,
    pause: () => pauseThe('requests'),
    pauseAnswers: () => pauseThe('answers'),
    resume() {
      paused = null;
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
