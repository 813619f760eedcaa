// `npm start` has callbacks on: a dev signing secret kept in the data folder, http to loopback allowed. A real
// stack (on the test Temporal server and a test mock) delivers a signed event to a receiver in this process.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { verifySignature } from '../src/callbacks/signature';
import { eventually } from './support/eventually';
import { startMock, type RunningMock } from './support/mock-server';
import { spawnStack, type RunningStack } from './support/stack-process';
import { uniqueTaskQueue } from './support/temporal';

interface Received {
  body: string;
  signature: string | undefined;
}

describe('npm start: callbacks on out of the box', function () {
  this.timeout(180_000);
  let mock: RunningMock;
  let dataDir: string;
  let stack: RunningStack | undefined;
  let receiver: Server;
  const received: Received[] = [];

  before(async function () {
    mock = await startMock();
    dataDir = await mkdtemp(join(tmpdir(), 'txflow-stack-callbacks-'));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ body, signature: req.headers['txflow-signature'] as string | undefined });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  after(async function () {
    await stack?.process.stop(30_000);
    await new Promise((resolve) => receiver?.close(resolve));
    await mock?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a callback_url on loopback gets the signed event; the secret is in the data folder, kept across starts', async function () {
    const env = {
      POSTING_SERVICE_URL: mock.url,
      TASK_QUEUE: uniqueTaskQueue('stack-cb'),
      TXFLOW_DATA_DIR: dataDir,
    };
    for (const key of ['CALLBACK_SIGNING_SECRET', 'CALLBACK_ALLOWED_HOSTS']) delete process.env[key];
    stack = await spawnStack(env);
    const running = stack;
    await running.process.waitForLine(
      (l) => l.includes('txflow is running:'),
      150_000,
      '"txflow is running"',
    );
    const secretFile = join(dataDir, 'callback-secret');
    assert.ok(running.lines.some((l) => l.includes(`Callbacks      on (signing secret in ${secretFile}`)));
    const secret = (await readFile(secretFile, 'utf8')).trim();
    assert.match(secret, /^[0-9a-f]{64}$/);

    const id = `stack-cb-${randomUUID()}`;
    const { port } = receiver.address() as AddressInfo;
    const res = await request(`${running.url}/api/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        amount: '4.00',
        currency: 'EUR',
        callback_url: `http://127.0.0.1:${port}/hook`,
      }),
    });
    assert.equal(res.statusCode, 202, await res.body.text());
    const event = await eventually(() => {
      const found = received.find((r) => JSON.parse(r.body).data.transactionId === id);
      assert.ok(found, 'delivered');
      return found;
    }, 60_000);
    assert.equal(JSON.parse(event.body).type, 'transaction.completed');
    assert.ok(
      verifySignature(secret, event.signature, event.body),
      'verifiable with the secret from the file',
    );
    // The worker's metrics endpoint is on, shown in the banner, and counts the delivery.
    assert.ok(running.lines.some((l) => l.includes(`Worker metrics ${running.workerMetricsUrl}`)));
    await eventually(async () => {
      const text = await (await request(running.workerMetricsUrl)).body.text();
      assert.match(text, /^txflow_callback_deliveries\{[^}]*outcome="delivered"[^}]*\} 1$/m);
      assert.match(text, /^txflow_callback_attempts\{[^}]*outcome="delivered"[^}]*\} 1$/m);
    });

    // A second start keeps the secret: receivers need not be told a new one.
    await running.process.stop(30_000);
    stack = await spawnStack(env);
    await stack.process.waitForLine((l) => l.includes('txflow is running:'), 150_000, '"txflow is running"');
    assert.equal((await readFile(secretFile, 'utf8')).trim(), secret);
  });
});
