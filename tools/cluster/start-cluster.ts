// Starts the local production topology in order — databases, Temporal services, namespace, Web UI, mock,
// workers, APIs — and hands back a handle to every process. `npm run cluster` and test/cluster.test.ts both
// start it through here. If a step fails, whatever started is stopped before the error is thrown.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { assertPortsFree, type PortNeed } from '../shared/ports';
import type { ManagedProcess } from '../shared/processes';
import { startApi, startMock, startWorker, type AppProcessOptions } from './app-processes';
import type { ClusterSettings } from './cluster-config';
import { waitForClusterHealth } from './cluster-health';
import { ensureNamespace } from './namespace';
import { temporalPortNeeds } from './ports';
import { migrateDatabases, serverModuleDir } from './schema';
import { writeServerConfig } from './server-config';
import { type ServerRole, TemporalServer } from './temporal-server';
import type { ClusterTools } from './tools';
import { startUiServer } from './ui-server';

export interface StartClusterOptions {
  settings: ClusterSettings;
  tools: ClusterTools;
  /** The Temporal CLI, for `temporal operator cluster health`. */
  cliPath: string;
  /** Base environment of the txflow children (default: ours). */
  env?: NodeJS.ProcessEnv;
  /** Added to the mock's, each worker's and each API's environment (a test's faults, fast retries). */
  mockEnv?: NodeJS.ProcessEnv;
  workerEnv?: NodeJS.ProcessEnv;
  apiEnv?: NodeJS.ProcessEnv;
  /** Progress lines ("temporal-history started", "worker-2 running"). */
  log: (line: string) => void;
  /** Every output line of the txflow children (Temporal's go to log files only). */
  onLine?: (name: string, line: string) => void;
  /** Every process started, restarts included: `npm run cluster` supervises them. */
  onStart?: (name: string, process: ManagedProcess) => void;
}

export interface ClusterUrls {
  apis: string[];
  ui: string;
  temporal: string;
  posting: string;
}

export class RunningCluster {
  readonly processes = new Map<string, ManagedProcess>();
  temporal!: TemporalServer;
  urls: ClusterUrls = { apis: [], ui: '', temporal: '', posting: '' };
  readonly dir: string;
  private readonly appOptions: AppProcessOptions;

  constructor(private readonly options: StartClusterOptions) {
    this.dir = resolve(options.settings.dir);
    this.appOptions = { env: {}, dir: this.dir, onLine: options.onLine };
  }

  get settings(): ClusterSettings {
    return this.options.settings;
  }

  /** The running process called `name` (temporal-history, worker-1, api-2, mock, temporal-ui). */
  process(name: string): ManagedProcess | undefined {
    const p = this.processes.get(name) ?? this.temporal?.process(name as ServerRole);
    return p?.running ? p : undefined;
  }

  /** Sends SIGKILL and resolves once it is gone. */
  async kill(name: string): Promise<void> {
    const p = this.process(name);
    if (!p) throw new Error(`${name} is not running`);
    p.kill('SIGKILL');
    await p.exited;
  }

  /** Starts a Temporal role again (after a kill) and waits for the cluster to be healthy. */
  async restartTemporal(role: ServerRole): Promise<void> {
    await this.temporal.restart(role);
    await waitForClusterHealth({
      cliPath: this.options.cliPath,
      address: this.temporal.address,
      processes: this.temporal.running(),
    });
  }

  async start(): Promise<this> {
    const { settings, tools, log } = this.options;
    const needs: PortNeed[] = [
      ...temporalPortNeeds(settings.ports),
      { port: settings.uiPort, purpose: 'Temporal Web UI (CLUSTER_UI_PORT)' },
      ...settings.apiPorts.map((port, i) => ({
        port,
        purpose: `txflow API ${i + 1} (CLUSTER_API_PORT + ${i})`,
      })),
    ];
    if (!settings.postingServiceUrl)
      needs.push({ port: settings.mockPort, purpose: 'mock posting service (CLUSTER_MOCK_PORT)' });
    await assertPortsFree(needs);
    await mkdir(this.dir, { recursive: true });

    const moduleDir = await serverModuleDir();
    await migrateDatabases({ sqlTool: tools.sqlTool, postgres: settings.postgres, moduleDir, log });
    await writeServerConfig(settings, this.dir);

    this.temporal = new TemporalServer({
      serverPath: tools.server,
      dir: this.dir,
      mode: settings.serverMode,
      ports: settings.ports,
      onStart: (role, proc) => {
        log(`${role} started (pid ${proc.pid}, log ${this.dir}/${role}.log)`);
        this.options.onStart?.(role, proc);
      },
    });
    await this.temporal.startAll();
    const address = this.temporal.address;
    await waitForClusterHealth({
      cliPath: this.options.cliPath,
      address,
      processes: this.temporal.running(),
    });
    log(`temporal cluster healthy at ${address} (${settings.historyShards} history shards)`);
    await ensureNamespace({
      address,
      namespace: settings.namespace,
      retentionDays: settings.retentionDays,
      log,
    });

    const ui = await startUiServer({
      uiServerPath: tools.uiServer,
      dir: this.dir,
      temporalAddress: address,
      port: settings.uiPort,
      namespace: settings.namespace,
      corsOrigins: settings.apiPorts.map((p) => `http://127.0.0.1:${p}`),
    });
    this.track('temporal-ui', ui.process);
    log(`web ui ready at ${ui.url}`);

    let posting = settings.postingServiceUrl;
    if (!posting) {
      this.track('mock', await startMock(settings.mockPort, this.options.mockEnv ?? {}, this.childOptions()));
      posting = `http://127.0.0.1:${settings.mockPort}`;
      log(`mock ready at ${posting}`);
    }
    this.urls = {
      apis: settings.apiPorts.map((p) => `http://127.0.0.1:${p}`),
      ui: ui.url,
      temporal: address,
      posting,
    };

    await Promise.all(
      Array.from({ length: settings.workers }, (_, i) => this.startWorker(`worker-${i + 1}`)),
    );
    await Promise.all(settings.apiPorts.map((_, i) => this.startApi(i + 1)));
    return this;
  }

  /** Starts (or starts again) a worker and resolves once it polls. */
  async startWorker(name: string): Promise<ManagedProcess> {
    const proc = await startWorker(name, this.options.workerEnv ?? {}, this.childOptions());
    this.track(name, proc);
    this.options.log(`${name} running (pid ${proc.pid})`);
    return proc;
  }

  /** Starts (or starts again) API instance `n` (1-based) on its port and resolves once healthy. */
  async startApi(n: number): Promise<ManagedProcess> {
    const port = this.settings.apiPorts[n - 1];
    if (port === undefined)
      throw new Error(`there is no API ${n} (CLUSTER_APIS=${this.settings.apiPorts.length})`);
    const proc = await startApi(`api-${n}`, port, this.options.apiEnv ?? {}, this.childOptions());
    this.track(`api-${n}`, proc);
    this.options.log(`api-${n} ready at http://127.0.0.1:${port}`);
    return proc;
  }

  /** Stops the APIs, the workers, the mock, the UI, then Temporal. */
  async stop(): Promise<void> {
    const rank = (name: string) =>
      name.startsWith('api-') ? 0 : name.startsWith('worker-') ? 1 : name === 'mock' ? 2 : 3;
    const order = [...this.processes].sort(([a], [b]) => rank(a) - rank(b));
    for (const [, proc] of order) await proc.stop(proc.name.startsWith('worker-') ? 40_000 : 15_000);
    await this.temporal?.stop();
  }

  /** The environment shared by the txflow children. */
  private childOptions(): AppProcessOptions {
    const { settings } = this;
    return {
      ...this.appOptions,
      env: {
        ...(this.options.env ?? process.env),
        TEMPORAL_ADDRESS: this.urls.temporal,
        TEMPORAL_NAMESPACE: settings.namespace,
        TASK_QUEUE: settings.taskQueue,
        POSTING_SERVICE_URL: this.urls.posting || `http://127.0.0.1:${settings.mockPort}`,
        TEMPORAL_UI_URL: this.urls.ui,
      },
    };
  }

  private track(name: string, proc: ManagedProcess): void {
    this.processes.set(name, proc);
    this.options.onStart?.(name, proc);
  }
}

/** Starts everything; on failure stops what started and rethrows. */
export async function startCluster(options: StartClusterOptions): Promise<RunningCluster> {
  const cluster = new RunningCluster(options);
  try {
    return await cluster.start();
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
}
