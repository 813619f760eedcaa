// `npm start`: the whole local stack — Temporal dev server, mock posting service, worker and API —
// as child processes with prefixed output. Ctrl-C stops them in order (API first, Temporal last);
// if one dies on its own, everything stops and we exit non-zero naming it.
// Ready detection, in start order: Temporal answers gRPC, has the namespace and lists the txflow search
// attributes; the mock answers GET /health with 200; the worker prints its pino line "worker running"
// (logged once it polls); the API answers GET /api/health with 200.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runMain } from '../config/env';
import { startDevServer, waitForTemporal } from './dev-server';
import { formatLogLine } from './log-format';
import { assertPortsFree, type PortNeed } from './ports';
import { describeExit, liveProcesses, type ManagedProcess, spawnManaged, waitForHttpOk } from './processes';
import { progressReporter } from './progress';
import { MOCK_PORT, stackSettings, TEMPORAL_PORT, TEMPORAL_UI_PORT } from './stack-config';
import { createPrefixedLogger } from './stack-logger';
import { obtainTemporalCli } from './temporal-cli';

interface Component {
  name: string;
  process: ManagedProcess;
  graceMs: number;
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const log = createPrefixedLogger('stack');

/** True for the worker's pino line `{"msg":"worker running",...}` (or a plain line saying so). */
function isWorkerRunningLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === 'worker running';
  } catch {
    return line.includes('worker running');
  }
}

function distScript(component: string): string {
  // Compiled next to us: dist/src/stack/main.js -> dist/src/<component>/main.js.
  const script = resolve(__dirname, '..', component, 'main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  return script;
}

void runMain(async () => {
  const settings = stackSettings();
  const started: Component[] = [];
  let stopping = false;

  /** Stops in reverse start order (API, worker, mock, Temporal), then anything still starting. */
  const stopAll = async () => {
    for (const c of [...started].reverse()) {
      if (!c.process.running) continue;
      log.info(`stopping ${c.name}`);
      const info = await c.process.stop(c.graceMs);
      log.info(`${c.name} stopped (${describeExit(info)})`);
    }
    await Promise.all(liveProcesses().map((p) => p.stop(10_000)));
  };
  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    await stopAll();
    log.info('stack stopped');
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopping) {
        log.info({ signal }, 'stopping the stack (send again to kill at once)');
        void shutdown(0);
        return;
      }
      for (const p of liveProcesses()) p.kill('SIGKILL');
      process.exit(130);
    });
  }
  const supervise = (c: Component) => {
    started.push(c);
    void c.process.exited.then((info) => {
      if (stopping) return;
      log.error(
        { component: c.name, code: info.code, signal: info.signal },
        `${c.name} ${describeExit(info)} unexpectedly`,
      );
      // The Node children's output is already on screen; Temporal's goes to its log file only.
      const tail = c.name === 'temporal' ? c.process.tail() : '';
      if (tail)
        print(
          tail
            .split('\n')
            .map((line) => formatLogLine(c.name, line))
            .join('\n'),
        );
      log.error(`stopping everything because ${c.name} died`);
      void shutdown(1);
    });
  };
  const spawnNode = (name: string, env: NodeJS.ProcessEnv, graceMs: number): Component => {
    const proc = spawnManaged({
      name,
      command: process.execPath,
      args: [distScript(name)],
      env,
      // Own group: the terminal's Ctrl-C reaches only us, and we stop the children in order.
      detached: true,
      onLine: (line) => print(formatLogLine(name, line)),
    });
    const c = { name, process: proc, graceMs };
    supervise(c);
    return c;
  };

  try {
    const needs: PortNeed[] = [
      { port: settings.apiPort, host: settings.apiHost, purpose: 'txflow API (PORT)' },
    ];
    if (!settings.postingServiceUrl) needs.push({ port: MOCK_PORT, purpose: 'mock posting service' });
    if (!settings.temporalAddress) {
      needs.push({ port: TEMPORAL_PORT, purpose: 'Temporal dev server gRPC (or set TEMPORAL_ADDRESS)' });
      needs.push({ port: TEMPORAL_UI_PORT, purpose: 'Temporal Web UI' });
    }
    await assertPortsFree(needs);

    let temporalAddress = settings.temporalAddress;
    let uiUrl: string | undefined;
    let temporalNote = 'external, from TEMPORAL_ADDRESS';
    if (temporalAddress) {
      // A clear message now rather than a worker that dies on its first connection.
      await waitForTemporal(temporalAddress, settings.namespace, { timeoutMs: 30_000 }).catch(
        (err: Error) => {
          throw new Error(`TEMPORAL_ADDRESS=${temporalAddress}: ${err.message}`);
        },
      );
      log.info({ address: temporalAddress }, 'temporal reachable');
    } else {
      const reporter = progressReporter(process.stderr);
      const cliPath = await obtainTemporalCli({ onProgress: reporter.onProgress, log });
      reporter.done();
      const dataDir = resolve(settings.dataDir);
      await mkdir(dataDir, { recursive: true });
      const dbFile = join(dataDir, 'temporal.db');
      const logFile = join(dataDir, 'temporal.log');
      log.info({ cli: cliPath, dbFile, logFile }, 'starting temporal dev server');
      const server = await startDevServer({
        cliPath,
        dbFile,
        port: TEMPORAL_PORT,
        uiPort: TEMPORAL_UI_PORT,
        namespace: settings.namespace,
        logFile,
        log,
        detached: true,
      });
      supervise({ name: 'temporal', process: server.process, graceMs: 10_000 });
      temporalAddress = server.address;
      uiUrl = server.uiUrl;
      temporalNote = `dev server, data in ${dbFile}, log in ${logFile}`;
      log.info({ address: temporalAddress, uiUrl }, 'temporal ready');
    }

    let postingServiceUrl = settings.postingServiceUrl;
    if (!postingServiceUrl) {
      const mock = spawnNode('mock', { ...process.env, PORT: String(MOCK_PORT) }, 5_000);
      postingServiceUrl = `http://127.0.0.1:${MOCK_PORT}`;
      await waitForHttpOk(`${postingServiceUrl}/health`, { timeoutMs: 60_000, process: mock.process });
      log.info({ url: postingServiceUrl }, 'mock ready');
    }

    const shared = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      POSTING_SERVICE_URL: postingServiceUrl,
    };
    const worker = spawnNode('worker', shared, settings.workerGraceMs + 10_000);
    // Worker readiness: its log line "worker running", printed once it polls its task queue.
    await worker.process.waitForLine(isWorkerRunningLine, 180_000, 'its "worker running" line');
    log.info('worker ready');

    const apiEnv = {
      ...shared,
      PORT: String(settings.apiPort),
      ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
    };
    const api = spawnNode('api', apiEnv, settings.apiGraceMs + 5_000);
    const apiUrl = `http://${settings.apiHost}:${settings.apiPort}`;
    await waitForHttpOk(`${apiUrl}/api/health`, { timeoutMs: 60_000, process: api.process });
    log.info({ url: apiUrl }, 'api ready');

    print(
      [
        '',
        'txflow is running:',
        `  API            ${apiUrl}`,
        `  Test page      ${apiUrl}/`,
        `  Temporal UI    ${uiUrl ?? '(not started: using an external Temporal)'}`,
        `  Temporal       ${temporalAddress} (${temporalNote})`,
        `  Posting        ${postingServiceUrl}${settings.postingServiceUrl ? ' (external, from POSTING_SERVICE_URL)' : ' (bundled mock)'}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    if (stopping) return;
    log.error((err as Error).message);
    await shutdown(1);
  }
});
