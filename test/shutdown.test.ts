// SIGTERM to a real API process (dist/src/api/main.js) holding an idle keep-alive connection and a slow request
// in flight: the idle connection is closed at once, no new connection is accepted, the slow request still gets
// its answer (with `Connection: close`), and the process exits 0 long before its 60 s grace. The request is
// made slow by pausing a TCP proxy between the API and Temporal, so the order of events is forced, not timed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { freePort } from '../tools/shared/ports';
import { waitForHttpOk, type ManagedProcess } from '../tools/shared/processes';
import { spawnTxflow } from '../tools/shared/txflow-process';
import { startPausableProxy, type PausableProxy } from './support/tcp-proxy';
import { eventually } from './support/eventually';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { connectError } from './support/connect';

/** An HTTP/1.1 exchange on a raw socket: the whole answer once it is complete, and when the socket closes. */
function rawExchange(port: number, text: string) {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  const answer = new Promise<{ status: number; headers: Record<string, string>; body: string }>(
    (resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('utf8');
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine = '', ...lines] = data.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        const body = data.slice(end + 4);
        if (Buffer.byteLength(body) >= Number(headers['content-length'] ?? 0)) {
          resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
        }
      });
      void closed.then(() => reject(new Error(`closed before a full answer: ${JSON.stringify(data)}`)));
    },
  );
  socket.write(text);
  return { socket, answer, closed };
}

describe('API graceful shutdown (a real API process)', function () {
  this.timeout(60_000);
  let proxy: PausableProxy;
  let api: ManagedProcess | undefined;

  afterEach(async function () {
    proxy?.resume();
    await api?.stop(5_000);
    await proxy?.close();
  });

  it('on SIGTERM closes idle keep-alive connections, refuses new ones, answers the request in flight and exits 0 before the grace', async function () {
    // The test's own limit (20 s) is a third of the API's grace (60 s): passing means it did not wait it out.
    this.timeout(20_000);
    proxy = await startPausableProxy(testTemporalAddress());
    const port = await freePort();
    const lines: string[] = [];
    api = spawnTxflow({
      component: 'api',
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: proxy.address,
        TASK_QUEUE: uniqueTaskQueue('shutdown'),
        PORT: String(port),
        HOST: '127.0.0.1',
        SHUTDOWN_GRACE_MS: '60000',
        TEMPORAL_RPC_TIMEOUT_MS: '30000',
        LOG_LEVEL: 'info',
      },
      onLine: (line) => lines.push(line),
    });
    await waitForHttpOk(`http://127.0.0.1:${port}/api/health`, { timeoutMs: 15_000, process: api });

    // An idle keep-alive connection: one answered request, left open.
    const idle = rawExchange(port, 'GET /api/health HTTP/1.1\r\nHost: api\r\n\r\n');
    const first = await idle.answer;
    assert.equal(first.status, 200);
    assert.equal(first.headers.connection, 'keep-alive');

    // A slow request: its workflow start is held at the proxy.
    proxy.pause();
    const id = `shutdown-${randomUUID()}`;
    const payload = JSON.stringify({
      id,
      amount: '10.00',
      currency: 'EUR',
      source_account: 'acc_a',
      destination_account: 'acc_b',
    });
    const slow = rawExchange(
      port,
      `POST /api/transactions HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
    );
    let slowAnswered = false;
    void slow.answer.then(() => (slowAnswered = true)).catch(() => undefined);
    // The start request (well over a gRPC ping's size) has reached the proxy: the request is inside the API.
    await eventually(() => assert.ok(proxy.heldBytes > 300, `held ${proxy.heldBytes} bytes`), 10_000);

    api.kill('SIGTERM');
    await api.waitForLine((l) => l.includes('"msg":"api stopping"'), 10_000, 'its "api stopping" line');
    // The idle connection is closed at once, while the slow request is still waiting.
    await idle.closed;
    assert.equal(slowAnswered, false, 'the slow request is still in flight');
    assert.equal(await connectError(port), 'ECONNREFUSED', 'a new connection after SIGTERM');
    assert.equal(api.running, true, 'the API waits for the request in flight');

    proxy.resume();
    const answer = await slow.answer;
    assert.equal(answer.status, 202, answer.body);
    assert.equal((JSON.parse(answer.body) as { transactionId: string }).transactionId, id);
    assert.equal(answer.headers.connection, 'close');
    await slow.closed;
    const exit = await api.exited;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.ok(
      !lines.some((l) => l.includes('grace period over')),
      'exited without waiting for the grace to run out',
    );
    assert.ok(lines.some((l) => l.includes('"msg":"api stopped"')));
  });
});
