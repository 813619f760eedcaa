// Temporal over TLS / mTLS / API key, for real: a throwaway CA, server and client certificate made with the
// openssl CLI, a TLS-terminating proxy (node:tls, ALPN h2, client certificates required and checked against the
// CA) in front of the test dev server, and the API and worker as child processes configured only by env vars.
// The API key is checked on the wire with a plain-text HTTP/2 proxy that records each gRPC call's headers.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { request } from 'undici';
import { ConfigError } from '../src/config/env';
import { createLogger } from '../src/config/logger';
import { temporalConnectionOptions, temporalSettings } from '../src/config/temporal';
import { freePort } from '../tools/shared/ports';
import { waitForHttpOk, type ManagedProcess } from '../tools/shared/processes';
import { spawnTxflow, txflowCommand } from '../tools/shared/txflow-process';
import { eventually } from './support/eventually';
import { runProcess } from './support/run-process';
import { startGrpcHeaderProxy, type GrpcHeaderProxy } from './support/grpc-header-proxy';
import { startMock, type RunningMock } from './support/mock-server';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';

const SERVER_NAME = 'temporal.txflow.test';
const API_KEY = `tk-${randomUUID()}`;

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for SERVER_NAME and a client certificate, all EC P-256, valid for a day. */
function makePki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'txflow-tls-'));
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1',
    '-subj', '/CN=txflow test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'); // prettier-ignore
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    openssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '1', '-extfile', f(`${name}.ext`)); // prettier-ignore
  };
  leaf(
    'server',
    SERVER_NAME,
    `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  leaf('client', 'txflow-client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return {
    dir,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  };
}

interface MtlsProxy {
  address: string;
  /** Common names of the client certificates of the connections it let through. */
  clients: string[];
  /** TLS errors of the connections it refused. */
  refused: string[];
  close(): Promise<void>;
}

/** Terminates TLS (h2, a client certificate from the CA required) and pipes each connection to `target`. */
async function startMtlsProxy(pki: Pki, target: string): Promise<MtlsProxy> {
  const [host = '127.0.0.1', port = '0'] = target.split(/:(?=\d+$)/);
  const clients: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCert),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      clients.push(String(socket.getPeerCertificate().subject?.CN));
      const upstream = net.connect(Number(port), host);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    },
  );
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => refused.push(err.code ?? err.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients,
    refused,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function tlsEnv(pki: Pki, withClientCert = true): Record<string, string> {
  return {
    TEMPORAL_TLS_CA_PATH: pki.ca,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    ...(withClientCert && { TEMPORAL_TLS_CERT_PATH: pki.clientCert, TEMPORAL_TLS_KEY_PATH: pki.clientKey }),
  };
}

/** A clean environment for a child: ours without any TEMPORAL_* the test runner may carry. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEMPORAL_')) env[k] = v;
  return { ...env, ...extra };
}

async function startStack(opts: {
  temporalAddress: string;
  env: Record<string, string>;
  postingUrl: string;
  lines: string[];
}): Promise<{ api: ManagedProcess; worker: ManagedProcess; apiUrl: string }> {
  const taskQueue = uniqueTaskQueue('tls');
  const apiPort = await freePort();
  const common = { TEMPORAL_ADDRESS: opts.temporalAddress, TASK_QUEUE: taskQueue, ...opts.env };
  const onLine = (line: string) => opts.lines.push(line);
  const worker = spawnTxflow({
    component: 'worker',
    env: childEnv({ ...common, POSTING_SERVICE_URL: opts.postingUrl, LOG_LEVEL: 'info' }),
    onLine,
  });
  const api = spawnTxflow({
    component: 'api',
    env: childEnv({ ...common, PORT: String(apiPort), HOST: '127.0.0.1', LOG_LEVEL: 'info' }),
    onLine,
  });
  await worker.waitForLine((l) => l.includes('"msg":"worker running"'), 90_000, 'its "worker running" line');
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitForHttpOk(`${apiUrl}/api/health`, { timeoutMs: 30_000, process: api });
  return { api, worker, apiUrl };
}

/** Submits one transaction through the API and waits until it is completed; its ID. */
async function processOne(apiUrl: string): Promise<string> {
  const id = `tls-${randomUUID()}`;
  const res = await request(`${apiUrl}/api/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id,
      amount: '12.34',
      currency: 'EUR',
      source_account: 'acc_a',
      destination_account: 'acc_b',
    }),
  });
  const body = await res.body.text();
  assert.equal(res.statusCode, 202, body);
  await eventually(async () => {
    const view = await request(`${apiUrl}/api/transactions/${id}`);
    const v = (await view.body.json()) as { status: string };
    assert.equal(v.status, 'completed');
  }, 30_000);
  return id;
}

const REPLAY_MAIN = path.join(__dirname, '..', 'tools', 'replay', 'main.js');

describe('Temporal over TLS, mTLS and with an API key', function () {
  this.timeout(120_000);
  let pki: Pki;
  let mock: RunningMock;

  before(async function () {
    pki = makePki();
    mock = await startMock();
  });

  after(async function () {
    await mock?.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  describe('configuration (TEMPORAL_TLS*, TEMPORAL_API_KEY)', function () {
    it('reads the CA and the client pair, sets the server name; no TLS settings means plain text', function () {
      const s = temporalSettings(tlsEnv(pki));
      assert.equal(s.tls?.serverNameOverride, SERVER_NAME);
      assert.deepEqual(s.tls?.serverRootCACertificate, readFileSync(pki.ca));
      assert.deepEqual(s.tls?.clientCertPair?.crt, readFileSync(pki.clientCert));
      assert.deepEqual(s.tls?.clientCertPair?.key, readFileSync(pki.clientKey));
      assert.equal(temporalConnectionOptions(temporalSettings({})).tls, false);
      assert.deepEqual(temporalSettings({ TEMPORAL_TLS: 'true' }).tls, {});
    });

    it('an API key implies TLS unless TEMPORAL_TLS=false, and reaches the connection options', function () {
      const withKey = temporalConnectionOptions(temporalSettings({ TEMPORAL_API_KEY: API_KEY }));
      assert.deepEqual(withKey, { address: '127.0.0.1:7233', tls: {}, apiKey: API_KEY });
      const plain = temporalConnectionOptions(
        temporalSettings({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }),
      );
      // false, so the SDK does not turn TLS on by itself because of the key.
      assert.equal(plain.tls, false);
      assert.equal(plain.apiKey, API_KEY);
    });

    it('refuses half a client pair, TLS details with TEMPORAL_TLS=false, and files that hold no PEM, naming each variable', function () {
      assert.throws(
        () => temporalSettings({ TEMPORAL_TLS_CERT_PATH: pki.clientCert }),
        (err: Error) =>
          err instanceof ConfigError &&
          /TEMPORAL_TLS_KEY_PATH="": must be set with TEMPORAL_TLS_CERT_PATH/.test(err.message),
      );
      assert.throws(
        () => temporalSettings({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA_PATH: pki.ca }),
        /TEMPORAL_TLS_CA_PATH=".*": is set but TEMPORAL_TLS=false/,
      );
      assert.throws(
        () =>
          temporalSettings({ TEMPORAL_TLS_CERT_PATH: pki.clientKey, TEMPORAL_TLS_KEY_PATH: pki.clientKey }),
        /TEMPORAL_TLS_CERT_PATH=".*client.key": .* does not hold a PEM certificate/,
      );
      assert.throws(
        () => temporalSettings({ TEMPORAL_TLS: 'yes' }),
        /TEMPORAL_TLS="yes": must be true or false/,
      );
    });

    it('never shows the API key: not in a config error, not in a log line of the settings', function () {
      assert.throws(
        () => temporalSettings({ TEMPORAL_API_KEY: `bad key ${API_KEY}` }),
        (err: Error) => /TEMPORAL_API_KEY=\(hidden\)/.test(err.message) && !err.message.includes(API_KEY),
      );
      let out = '';
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          out += chunk.toString();
          done();
        },
      });
      const settings = temporalSettings({ TEMPORAL_API_KEY: API_KEY, ...tlsEnv(pki) });
      const log = createLogger('test', sink);
      log.info({ temporal: settings }, 'settings');
      log.info(settings, 'settings');
      log.info({ metadata: { authorization: `Bearer ${API_KEY}` } }, 'metadata');
      assert.ok(out.length > 0);
      assert.ok(!out.includes(API_KEY), out);
      assert.ok(!out.includes('PRIVATE KEY'), 'the client key is not logged');
    });
  });

  describe('processes', function () {
    const started: ManagedProcess[] = [];
    let proxy: MtlsProxy | undefined;
    let h2: GrpcHeaderProxy | undefined;

    afterEach(async function () {
      for (const p of started.splice(0)) await p.stop(10_000);
      await proxy?.close();
      await h2?.close();
      proxy = undefined;
      h2 = undefined;
    });

    it('the API and the worker process a transaction end to end through an mTLS proxy', async function () {
      proxy = await startMtlsProxy(pki, testTemporalAddress());
      const lines: string[] = [];
      const { api, worker, apiUrl } = await startStack({
        temporalAddress: proxy.address,
        env: tlsEnv(pki),
        postingUrl: mock.url,
        lines,
      });
      started.push(api, worker);
      const id = await processOne(apiUrl);
      assert.ok(proxy.clients.length >= 2, `connections: ${JSON.stringify(proxy.clients)}`);
      assert.ok(proxy.clients.every((cn) => cn === 'txflow-client'));
      assert.deepEqual(proxy.refused, []);
      assert.ok(!lines.some((l) => l.includes('PRIVATE KEY')));

      // npm run replay fetches the history with the same TEMPORAL_TLS_* settings; without them it cannot.
      const replay = (env: Record<string, string>) =>
        runProcess(
          process.execPath,
          [REPLAY_MAIN, id],
          childEnv({ TEMPORAL_ADDRESS: proxy!.address, ...env }),
          110_000,
        );
      const ok = await replay(tlsEnv(pki));
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, new RegExp(`^ok\\s+${id}`, 'm'));
      const plain = await replay({});
      assert.equal(plain.code, 3, `unreachable without TLS: ${plain.stdout}${plain.stderr}`);
    });

    it('without a client certificate the connection is refused and the API answers 503, not a crash or a hang', async function () {
      proxy = await startMtlsProxy(pki, testTemporalAddress());
      const port = await freePort();
      const api = spawnTxflow({
        component: 'api',
        env: childEnv({
          TEMPORAL_ADDRESS: proxy.address,
          ...tlsEnv(pki, false),
          PORT: String(port),
          HOST: '127.0.0.1',
          TEMPORAL_RPC_TIMEOUT_MS: '3000',
          LOG_LEVEL: 'warn',
        }),
      });
      started.push(api);
      const url = `http://127.0.0.1:${port}`;
      // Health answers (503) once the API listens.
      const health = await eventually(async () => {
        const res = await request(`${url}/api/health`);
        const body = (await res.body.json()) as { temporal: { reachable: boolean } };
        return { status: res.statusCode, body };
      }, 30_000);
      assert.equal(health.status, 503);
      assert.equal(health.body.temporal.reachable, false);
      const res = await request(`${url}/api/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: `tls-nocert-${randomUUID()}`,
          amount: '1.00',
          currency: 'EUR',
          source_account: 'acc_a',
          destination_account: 'acc_b',
        }),
        headersTimeout: 20_000,
      });
      const problem = (await res.body.json()) as { status: number };
      assert.equal(res.statusCode, 503, JSON.stringify(problem));
      assert.ok(res.headers['retry-after']);
      assert.ok(proxy.refused.length > 0, 'the proxy refused the handshake');
      assert.deepEqual(proxy.clients, [], 'nothing got through');
      assert.equal(api.running, true);
    });

    it('a TEMPORAL_TLS_CERT_PATH that cannot be read stops the API and the worker with exit 2, naming it', function () {
      for (const component of ['api', 'worker'] as const) {
        const env = childEnv({
          ...tlsEnv(pki),
          TEMPORAL_TLS_CERT_PATH: path.join(pki.dir, 'missing.crt'),
          POSTING_SERVICE_URL: mock.url,
        });
        const txflow = txflowCommand(component, [], env);
        const result = spawnSync(txflow.command, txflow.args, {
          env: txflow.env,
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(result.status, 2, `${component}: ${result.stderr}`);
        assert.match(result.stderr, /TEMPORAL_TLS_CERT_PATH=".*missing\.crt": cannot be read \(ENOENT\)/);
      }
    });

    it('TEMPORAL_API_KEY is sent as `authorization: Bearer <key>` on every call of the API and the worker, and never logged', async function () {
      h2 = await startGrpcHeaderProxy(testTemporalAddress());
      const lines: string[] = [];
      const { api, worker, apiUrl } = await startStack({
        temporalAddress: h2.address,
        // Plain text so the proxy can read the headers; with TLS the key travels the same way, encrypted.
        env: { TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' },
        postingUrl: mock.url,
        lines,
      });
      started.push(api, worker);
      await processOne(apiUrl);
      const calls = h2.calls;
      assert.ok(
        calls.some((c) => c.path.endsWith('/StartWorkflowExecution')),
        'the API started through it',
      );
      assert.ok(
        calls.some((c) => c.path.endsWith('/PollActivityTaskQueue')),
        'the worker polled through it',
      );
      const agents = new Set(calls.map((c) => (c.userAgent ?? '').split('/')[0]));
      assert.ok(agents.size >= 2, `both clients (grpc-js and Core): ${[...agents].join(', ')}`);
      const without = calls.filter((c) => c.authorization !== `Bearer ${API_KEY}`);
      assert.deepEqual(without, [], 'every call carries the key');
      assert.ok(!lines.some((l) => l.includes(API_KEY)), 'the key is in no log line');
    });
  });
});
