// The processes of one chaos scenario, all real and all ours: a Temporal dev server on a SQLite file in a temp
// dir, the mock posting service, one or more workers and the API, each a child process started from dist like
// `npm start` does, on free ports. A scenario kills and restarts them; stop() ends whatever is left.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { request } from 'undici';
import type { FaultPatch, FaultSettings } from '../mock/config';
import type { StoredTransaction, MockStats } from '../mock/store';
import { startDevServer } from '../stack/dev-server';
import { freePort, isPortFree } from '../shared/ports';
import { describeExit, waitForHttpOk, type ExitInfo, type ManagedProcess } from '../shared/processes';
import { isWorkerRunningLine, spawnTxflow, type TxflowProcess } from '../shared/txflow-process';
import { obtainTemporalCli } from '../stack/temporal-cli';

const TASK_QUEUE = 'txflow-chaos';

export type Env = Record<string, string>;

export interface ClusterConfig {
  /** Names the temp dir and the log lines, e.g. the scenario. */
  label: string;
  /** Workers started at once (default 1), named worker-1, worker-2, ... */
  workers?: number;
  /** Fault knobs set on the mock right after it started (PUT /admin/faults). */
  faults?: FaultPatch;
  /** Added to (and overriding) the API's environment: retry policies, timeouts. */
  apiEnv?: Env;
  /** Added to (and overriding) each worker's environment. */
  workerEnv?: Env;
  /** Progress lines ("temporal ready on 127.0.0.1:40123"). */
  log: (line: string) => void;
}

/**
 * Defaults that make a fault visible in seconds rather than minutes: a 2 s activity attempt timeout (a dead
 * worker's activity is retried after it), a downstream timeout below it, short retry backoffs, short graces.
 */
export const FAST_API_ENV: Env = {
  CHECK_RETRY_INITIAL_INTERVAL_MS: '200',
  CHECK_RETRY_MAX_INTERVAL_MS: '2000',
  CHECK_RETRY_ATTEMPT_TIMEOUT_MS: '2000',
  POST_RETRY_INITIAL_INTERVAL_MS: '200',
  POST_RETRY_MAX_INTERVAL_MS: '2000',
  POST_RETRY_ATTEMPT_TIMEOUT_MS: '2000',
  // The window after a POST of unknown outcome, in the transactions' policy; at least the worker's POST timeout.
  POSTING_TIMEOUT_MS: '1500',
  POSTING_WRITE_SETTLE_MS: '3000',
  SHUTDOWN_GRACE_MS: '5000',
  TEMPORAL_RPC_TIMEOUT_MS: '3000',
  // /api/health: probe the mock every second, call a transaction stalled after 2 s in `processing`.
  HEALTH_DOWNSTREAM_PROBE_MS: '1000',
  HEALTH_STALLED_AFTER_MS: '2000',
};
export const FAST_WORKER_ENV: Env = {
  POSTING_TIMEOUT_MS: '1500',
  POSTING_WRITE_SETTLE_MS: '3000',
  WORKER_SHUTDOWN_GRACE_MS: '5000',
};

interface Role {
  name: string;
  process: ManagedProcess;
  graceMs: number;
}

/** Our environment without what would steer a child elsewhere (ports, addresses, mock knobs). */
function baseEnv(): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(MOCK_|POSTING_|TEMPORAL_|CHECK_RETRY_|POST_RETRY_|WORKER_|TXFLOW_)/.test(key)) continue;
    if (
      [
        'PORT',
        'HOST',
        'TASK_QUEUE',
        'LOG_LEVEL',
        'PROCESSING_DEADLINE_MS',
        'API_KEYS',
        'RATE_LIMIT_PER_MINUTE',
      ].includes(key)
    ) {
      continue;
    }
    env[key] = value;
  }
  return env;
}

export class Cluster {
  /** Clusters started and not yet stopped, for a Ctrl-C handler. */
  static readonly live = new Set<Cluster>();
  readonly dataDir: string;
  readonly dbFile: string;
  readonly taskQueue = TASK_QUEUE;
  readonly temporalPort: number;
  readonly mockPort: number;
  readonly apiPort: number;
  /** Every process started, for stop() and for the report. */
  readonly started: { name: string; pid: number | undefined; at: number }[] = [];
  private readonly roles = new Map<string, Role>();
  /** Every process ever started here (a restarted role's earlier ones too). */
  private readonly all: Role[] = [];
  private cliPath = '';
  private keep = false;

  private constructor(
    readonly config: ClusterConfig,
    dataDir: string,
    ports: { temporal: number; mock: number; api: number },
  ) {
    this.dataDir = dataDir;
    this.dbFile = path.join(dataDir, 'temporal.db');
    this.temporalPort = ports.temporal;
    this.mockPort = ports.mock;
    this.apiPort = ports.api;
  }

  get temporalAddress(): string {
    return `127.0.0.1:${this.temporalPort}`;
  }

  get mockUrl(): string {
    return `http://127.0.0.1:${this.mockPort}`;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** Starts Temporal, the mock, the workers and the API, in that order; stops what started if one fails. */
  static async start(config: ClusterConfig): Promise<Cluster> {
    const dataDir = await mkdtemp(path.join(tmpdir(), `txflow-chaos-${config.label}-`));
    const ports = { temporal: await freePort(), mock: await freePort(), api: await freePort() };
    const cluster = new Cluster(config, dataDir, ports);
    Cluster.live.add(cluster);
    try {
      cluster.cliPath = await obtainTemporalCli({ log: pino({ level: 'silent' }) });
      await cluster.startTemporal();
      await cluster.startMock();
      if (config.faults) await cluster.setFaults(config.faults);
      const workers = config.workers ?? 1;
      for (let i = 1; i <= workers; i++) await cluster.startWorker(`worker-${i}`);
      await cluster.startApi();
    } catch (err) {
      cluster.keepDataDir();
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The process playing `name` (temporal, mock, worker-1, api), if it runs. */
  process(name: string): ManagedProcess | undefined {
    const role = this.roles.get(name);
    return role?.process.running ? role.process : undefined;
  }

  /** Names of the workers that run now. */
  runningWorkers(): string[] {
    return [...this.roles.keys()].filter((n) => n.startsWith('worker-') && this.process(n) !== undefined);
  }

  /** Keeps the temp dir (logs, database) after stop(), e.g. when the scenario failed. */
  keepDataDir(): void {
    this.keep = true;
  }

  private log(line: string): void {
    this.config.log(line);
  }

  private track(name: string, proc: ManagedProcess, graceMs: number): void {
    const role = { name, process: proc, graceMs };
    this.roles.set(name, role);
    this.all.push(role);
    this.started.push({ name, pid: proc.pid, at: Date.now() });
  }

  private logFile(name: string): string {
    return path.join(this.dataDir, `${name}.log`);
  }

  /** Starts (or restarts, on the same port and database file) the dev server; resolves once it serves. */
  async startTemporal(): Promise<void> {
    // After a kill -9 the port is free at once, but be patient with a slow kernel.
    for (let i = 0; i < 40 && !(await isPortFree(this.temporalPort)); i++) await sleep(250);
    const t0 = Date.now();
    const server = await startDevServer({
      cliPath: this.cliPath,
      dbFile: this.dbFile,
      port: this.temporalPort,
      uiPort: false,
      namespace: 'default',
      logFile: this.logFile('temporal'),
      log: pino({ level: 'silent' }),
      readyTimeoutMs: 120_000,
    });
    this.track('temporal', server.process, 10_000);
    this.log(`temporal ready on ${server.address} (pid ${server.process.pid}, ${ms(Date.now() - t0)})`);
  }

  async startMock(): Promise<void> {
    const t0 = Date.now();
    const proc = this.spawnNode('mock', 'mock', {
      PORT: String(this.mockPort),
      HOST: '127.0.0.1',
      MOCK_SEED: '20261123',
      LOG_LEVEL: 'warn',
    });
    this.track('mock', proc, 5_000);
    await waitForHttpOk(`${this.mockUrl}/health`, { timeoutMs: 60_000, process: proc });
    this.log(`mock ready on ${this.mockUrl} (pid ${proc.pid}, ${ms(Date.now() - t0)})`);
  }

  /** Starts a worker and resolves once it polls (its "worker running" line). */
  async startWorker(name = 'worker-1'): Promise<ManagedProcess> {
    const t0 = Date.now();
    const env: Env = {
      TEMPORAL_ADDRESS: this.temporalAddress,
      TASK_QUEUE: this.taskQueue,
      POSTING_SERVICE_URL: this.mockUrl,
      // info: its ready line; it logs nothing per transaction at info.
      LOG_LEVEL: 'info',
      ...FAST_WORKER_ENV,
      ...this.config.workerEnv,
    };
    const proc = this.spawnNode(name, 'worker', env);
    const graceMs = Number(env.WORKER_SHUTDOWN_GRACE_MS ?? 30_000) + 10_000;
    this.track(name, proc, graceMs);
    await proc.waitForLine(isWorkerRunningLine, 180_000, 'its "worker running" line');
    this.log(`${name} running (pid ${proc.pid}, ${ms(Date.now() - t0)})`);
    return proc;
  }

  /** Starts the API and resolves once /api/health answers 200 (Temporal reachable). */
  async startApi(): Promise<ManagedProcess> {
    for (let i = 0; i < 40 && !(await isPortFree(this.apiPort)); i++) await sleep(250);
    const t0 = Date.now();
    const env: Env = {
      TEMPORAL_ADDRESS: this.temporalAddress,
      TASK_QUEUE: this.taskQueue,
      PORT: String(this.apiPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // For /api/health's downstream probe, as `npm start` passes it.
      POSTING_SERVICE_URL: this.mockUrl,
      ...FAST_API_ENV,
      ...this.config.apiEnv,
    };
    for (let attempt = 1; ; attempt++) {
      const proc = this.spawnNode('api', 'api', env);
      this.track('api', proc, Number(env.SHUTDOWN_GRACE_MS ?? 10_000) + 5_000);
      try {
        await waitForHttpOk(`${this.apiUrl}/api/health`, { timeoutMs: 90_000, process: proc });
      } catch (err) {
        // The port was free when checked, then a connection's local end took it (it is in the ephemeral range).
        if (attempt >= 5 || !proc.tail().includes('EADDRINUSE')) throw err;
        this.log(`api port ${this.apiPort} taken by another socket: starting the api again (${attempt})`);
        await sleep(500);
        continue;
      }
      this.log(`api ready on ${this.apiUrl} (pid ${proc.pid}, ${ms(Date.now() - t0)})`);
      return proc;
    }
  }

  /**
   * Sends `signal` to the process playing `name` and resolves how it ended. SIGKILL is `kill -9`; for
   * SIGTERM it waits up to `waitMs` (then SIGKILLs it and says so).
   */
  async signal(name: string, signal: NodeJS.Signals, waitMs = 60_000): Promise<ExitInfo & { ms: number }> {
    const role = this.roles.get(name);
    if (!role || !role.process.running) throw new Error(`${name} is not running`);
    const t0 = Date.now();
    role.process.kill(signal);
    const timer = setTimeout(() => role.process.kill('SIGKILL'), waitMs);
    try {
      const info = await role.process.exited;
      const took = Date.now() - t0;
      this.log(`${name} (pid ${role.process.pid}) got ${signal}: ${describeExit(info)} after ${ms(took)}`);
      return { ...info, ms: took };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` without waiting for anything (SIGSTOP / SIGCONT to pause and resume a process). */
  send(name: string, signal: NodeJS.Signals): void {
    const proc = this.process(name);
    if (!proc) throw new Error(`${name} is not running`);
    proc.kill(signal);
  }

  /** kill -9. */
  kill(name: string): Promise<ExitInfo & { ms: number }> {
    return this.signal(name, 'SIGKILL');
  }

  async setFaults(patch: FaultPatch): Promise<FaultSettings> {
    const res = await request(`${this.mockUrl}/admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const body = (await res.body.json()) as FaultSettings;
    if (res.statusCode !== 200)
      throw new Error(`PUT /admin/faults: ${res.statusCode} ${JSON.stringify(body)}`);
    return body;
  }

  async mockStats(): Promise<MockStats> {
    const res = await request(`${this.mockUrl}/admin/stats`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    if (res.statusCode !== 200) throw new Error(`GET /admin/stats: ${res.statusCode}`);
    return (await res.body.json()) as MockStats;
  }

  /** Every row the mock stored (GET /transactions; the caller turns faults off first, or retries). */
  async mockRows(): Promise<StoredTransaction[]> {
    for (let attempt = 1; ; attempt++) {
      const res = await request(`${this.mockUrl}/transactions`, {
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      if (res.statusCode === 200) return ((await res.body.json()) as { data: StoredTransaction[] }).data;
      await res.body.dump();
      if (attempt >= 10) throw new Error(`GET /transactions: ${res.statusCode}`);
      await sleep(200 * attempt);
    }
  }

  /** Stops everything still running (API, workers, mock, Temporal), then removes the temp dir unless kept. */
  async stop(): Promise<void> {
    const order = [...this.all].sort((a, b) => rank(a.name) - rank(b.name));
    for (const role of order) {
      if (role.process.running) await role.process.stop(role.graceMs);
    }
    if (this.keep) this.log(`kept ${this.dataDir} (logs and database)`);
    else await rm(this.dataDir, { recursive: true, force: true });
    Cluster.live.delete(this);
  }

  /** The last lines of a component's output, for a failure message. */
  tail(name: string): string {
    return this.roles.get(name)?.process.tail() ?? '';
  }

  private spawnNode(name: string, component: TxflowProcess, env: Env): ManagedProcess {
    return spawnTxflow({ name, component, env: { ...baseEnv(), ...env }, logFile: this.logFile(name) });
  }
}

function rank(name: string): number {
  if (name === 'api') return 0;
  if (name.startsWith('worker')) return 1;
  if (name === 'mock') return 2;
  return 3;
}

export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}
