// `npm start`: the whole local stack — Temporal dev server, mock posting service, worker and API (or, with
// TXFLOW_ALL_IN_ONE=true, one all-in-one process for both) — as child processes with prefixed output.
// Ctrl-C stops them in order (API first, Temporal last). A worker or API that dies on its own is restarted
// with backoff (counted in the API's health); a crash loop of one, or the death of the dev server or the mock
// (it holds its records in memory), stops everything and we exit non-zero naming it.
// Ready detection, in start order: Temporal answers gRPC, has the namespace and lists the txflow search
// attributes; the mock answers GET /health with 200; the worker prints its pino line "worker running"
// (logged once it polls); the API answers GET /api/health with 200.
import { NOT_NICED, stackProcessEnv } from '../shared/one-machine';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runMain } from '../../src/config/env';
import { devCallbacks } from './dev-callbacks';
import { temporalConnectionOptions, temporalSettings } from '../../src/config/temporal';
import { startDevServer, waitForTemporal } from './dev-server';
import { formatLogLine } from './log-format';
import { assertPortsFree, type PortNeed } from '../shared/ports';
import { type ManagedProcess, waitForHttpOk } from '../shared/processes';
import { isWorkerRunningLine, spawnTxflow, type TxflowProcess } from '../shared/txflow-process';
import { progressReporter } from '../shared/progress';
import { RESTARTS_FILE_ENV, type RestartCounts, writeRestartCounts } from '../../src/config/restart-counts';
import { MOCK_PORT, stackSettings, TEMPORAL_PORT, TEMPORAL_UI_PORT } from './stack-config';
import { createPrefixedLogger } from './stack-logger';
import { type Supervised, Supervisor } from './supervisor';
import { obtainTemporalCli } from './temporal-cli';

const print = (line: string) => process.stdout.write(`${line}\n`);
const log = createPrefixedLogger('stack');

void runMain(async () => {
  const settings = stackSettings();
  await Supervisor.run(log, 'the stack', print, async (supervisor) => {
    const spawnProcess = (name: TxflowProcess, env: NodeJS.ProcessEnv) =>
      spawnTxflow({
        component: name,
        env,
        // Own group: the terminal's Ctrl-C reaches only us, and we stop the children in order.
        detached: true,
        onLine: (line) => print(formatLogLine(name, line)),
      });
    const spawnNode = (name: TxflowProcess, env: NodeJS.ProcessEnv, graceMs: number): Supervised => {
      const c = { name, process: spawnProcess(name, env), graceMs };
      supervisor.supervise(c);
      return c;
    };
    const restarts: RestartCounts = {};
    const restartsFile = join(resolve(settings.dataDir), 'restarts.json');
    const saveRestarts = () =>
      writeRestartCounts(restartsFile, restarts).catch((err: Error) =>
        log.warn({ file: restartsFile, err: err.message }, 'could not write the restart counts'),
      );
    // The worker and the API: restarted when they die, their restarts counted in the file the API's health reads.
    const spawnRestarting = async (name: TxflowProcess, env: NodeJS.ProcessEnv, graceMs: number) => {
      restarts[name] = 0;
      await saveRestarts();
      const c = { name, process: spawnProcess(name, env), graceMs };
      supervisor.superviseRestarting(c, {
        start: () => spawnProcess(name, env),
        policy: settings.restartPolicy,
        onRestart: (count) => {
          restarts[name] = count;
          void saveRestarts();
        },
      });
      return c;
    };
    // Ready once `ready` holds for the component's current process; if that one dies first, for the one the
    // supervisor starts instead (on a crash loop it stops everything, and we stop waiting).
    const readyAcrossRestarts = async (c: Supervised, ready: (p: ManagedProcess) => Promise<unknown>) => {
      for (;;) {
        const proc = c.process;
        try {
          await ready(proc);
          return;
        } catch (err) {
          if (proc.running || supervisor.isStopping) throw err;
          while (c.process === proc && !supervisor.isStopping) await sleep(100);
          if (supervisor.isStopping) throw err;
        }
      }
    };

    const { workerMetrics } = settings;
    const needs: PortNeed[] = [
      { port: settings.apiPort, host: settings.apiHost, purpose: 'txflow API (PORT)' },
      {
        port: workerMetrics.port,
        host: workerMetrics.host,
        purpose: 'worker metrics (WORKER_METRICS_ADDRESS)',
      },
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
      // With the TLS / API key settings the worker and API will use (TEMPORAL_TLS_*, TEMPORAL_API_KEY).
      await waitForTemporal(temporalAddress, settings.namespace, {
        timeoutMs: 30_000,
        connection: temporalConnectionOptions(temporalSettings()),
      }).catch((err: Error) => {
        throw new Error(`TEMPORAL_ADDRESS=${temporalAddress}: ${err.message}`);
      });
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
      // Its output goes to its log file only: show its last lines if it dies.
      supervisor.supervise({
        name: 'temporal',
        process: server.process,
        graceMs: 10_000,
        showTailOnDeath: true,
      });
      temporalAddress = server.address;
      uiUrl = server.uiUrl;
      temporalNote = `dev server, data in ${dbFile}, log in ${logFile}`;
      log.info({ address: temporalAddress, uiUrl }, 'temporal ready');
    }

    let postingServiceUrl = settings.postingServiceUrl;
    if (!postingServiceUrl) {
      const mock = spawnNode('mock', { ...process.env, ...NOT_NICED, PORT: String(MOCK_PORT) }, 5_000);
      postingServiceUrl = `http://127.0.0.1:${MOCK_PORT}`;
      await waitForHttpOk(`${postingServiceUrl}/health`, { timeoutMs: 60_000, process: mock.process });
      log.info({ url: postingServiceUrl }, 'mock ready');
    }

    await mkdir(resolve(settings.dataDir), { recursive: true });
    const callbacks = await devCallbacks(resolve(settings.dataDir));
    // Only with the dev server on this machine (not an external TEMPORAL_ADDRESS): see one-machine.ts.
    const oneMachine = stackProcessEnv(!settings.temporalAddress);
    const shared = {
      ...process.env,
      ...oneMachine.others,
      TEMPORAL_ADDRESS: temporalAddress,
      POSTING_SERVICE_URL: postingServiceUrl,
      WORKER_METRICS_ADDRESS: workerMetrics.address,
      ...callbacks.env,
    };
    const apiEnv = {
      ...shared,
      PORT: String(settings.apiPort),
      [RESTARTS_FILE_ENV]: restartsFile,
      ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
    };
    const apiUrl = `http://${settings.apiHost}:${settings.apiPort}`;
    const apiAnswers = (timeoutMs: number) => (p: ManagedProcess) =>
      waitForHttpOk(`${apiUrl}/api/health`, { timeoutMs, process: p });
    if (settings.allInOne) {
      // It stops its API, then its worker: it gets both graces. Its API answers only once its worker runs.
      const graceMs = settings.apiGraceMs + settings.workerGraceMs + 10_000;
      await readyAcrossRestarts(await spawnRestarting('all-in-one', apiEnv, graceMs), apiAnswers(180_000));
      log.info({ url: apiUrl }, 'all-in-one ready');
    } else {
      const worker = await spawnRestarting(
        'worker',
        { ...shared, ...oneMachine.worker },
        settings.workerGraceMs + 10_000,
      );
      // Worker readiness: its log line "worker running", printed once it polls its task queue.
      await readyAcrossRestarts(worker, (p) =>
        p.waitForLine(isWorkerRunningLine, 180_000, 'its "worker running" line'),
      );
      log.info('worker ready');

      const api = await spawnRestarting('api', apiEnv, settings.apiGraceMs + 5_000);
      await readyAcrossRestarts(api, apiAnswers(60_000));
      log.info({ url: apiUrl }, 'api ready');
    }

    print(
      [
        '',
        'txflow is running:',
        `  API            ${apiUrl}${settings.allInOne ? ' (all-in-one: API and worker in one process)' : ''}`,
        `  Test page      ${apiUrl}/`,
        `  Temporal UI    ${uiUrl ?? '(not started: using an external Temporal)'}`,
        `  Temporal       ${temporalAddress} (${temporalNote})`,
        `  Callbacks      ${callbacks.note}`,
        `  Worker metrics ${workerMetrics.url} (callback deliveries, downstream outcomes)`,
        `  Posting        ${postingServiceUrl}${settings.postingServiceUrl ? ' (external, from POSTING_SERVICE_URL)' : ' (bundled mock)'}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  });
});
