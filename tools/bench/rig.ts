// What the bench runs on: a Temporal server (a dev server of its own, or a running one), a client of it, an HTTP
// agent, and the processes it starts (the mock, APIs, workers, the raw worker), each stopped at the end.
import { NOT_NICED, oneMachineWorkerEnv } from '../shared/one-machine';
import { Client, Connection } from '@temporalio/client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { createLogger } from '../../src/config/logger';
import { freePort } from '../shared/ports';
import { spawnManaged, waitForHttpOk, type ManagedProcess } from '../shared/processes';
import { isWorkerRunningLine, spawnTxflow, type TxflowProcess } from '../shared/txflow-process';
import { startDevServer } from '../stack/dev-server';
import { obtainTemporalCli } from '../stack/temporal-cli';
import { closedLoop } from './closed-loop';
import type { CpuMeter } from './cpu-tally';
import { pinProcess, splitCpus, type CpuSplit } from './cpu-split';
import type { BenchFlags } from './options';
import { processStats } from './process-stats';
import { line } from './report';

const log = createLogger('bench');

// Short retry intervals for the bench's transactions (the API's and the all-in-one's policy).
export const API_POLICY_ENV = {
  CHECK_RETRY_INITIAL_INTERVAL_MS: '100',
  POST_RETRY_INITIAL_INTERVAL_MS: '100',
  POST_RETRY_MAX_INTERVAL_MS: '2000',
};

type Env = Record<string, string>;

/** An API (or all-in-one) process and its base URL. */
export interface RunningApi {
  url: string;
  process: ManagedProcess;
}

interface TemporalServer {
  address: string;
  stop: () => Promise<void>;
  process?: ManagedProcess;
}

export interface MockStats {
  posts: number;
  distinctIds: number;
  duplicates: string[];
  faults: Record<string, number>;
}

export class BenchRig {
  /** Names this run's task queues and workflow IDs. */
  readonly run = Date.now().toString(36);
  readonly http = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  private readonly children: ManagedProcess[] = [];
  private mockPort = 0;
  private mockProcess: ManagedProcess | undefined;

  private constructor(
    readonly split: CpuSplit | undefined,
    private readonly dataDir: string,
    private readonly server: TemporalServer,
    private readonly connection: Connection,
    readonly client: Client,
  ) {}

  /** Obtains the Temporal CLI, pins the CPUs (--pin), starts the dev server (unless --temporal) and connects. */
  static async start(flags: BenchFlags): Promise<BenchRig> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'txflow-bench-'));
    const cliPath = await obtainTemporalCli({ log });
    const split = flags.pin ? splitCpus() : undefined;
    if (split) {
      pinProcess(process.pid, split.clients); // before any child is spawned: they inherit it
      line(
        `pinned: Temporal dev server on CPU ${split.server.join(',')}, API, worker, mock and load on CPU ${split.clients.join(',')}`,
      );
    }
    const server: TemporalServer = flags.temporal
      ? { address: flags.temporal, stop: async () => undefined }
      : await startDevServer({
          cliPath,
          dbFile: path.join(dataDir, 'temporal.db'),
          port: await freePort(),
          uiPort: false,
          namespace: 'default',
          log,
          extraArgs: flags.eagerActivities
            ? ['--dynamic-config-value', 'system.enableActivityEagerExecution=true']
            : undefined,
          cpus: split?.server,
        });
    const connection = await Connection.connect({ address: server.address });
    return new BenchRig(split, dataDir, server, connection, new Client({ connection }));
  }

  /** Whether the rig started the dev server it measures (not --temporal). */
  private get ownServer(): boolean {
    return this.server.process !== undefined;
  }

  get mockUrl(): string {
    return `http://127.0.0.1:${this.mockPort}`;
  }

  /** A txflow process, or the bench's own raw worker (no-op workflows; plain node, no flags). */
  private spawn(name: string, component: TxflowProcess | 'raw-worker', env: Env): ManagedProcess {
    // warn: request logs of the API would cost this process (reading its pipe) as much as the API.
    // Not niced unless `env` says so (the worker's one-machine settings): never the API, all-in-one or mock.
    const childEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: this.server.address,
      LOG_LEVEL: 'warn',
      ...NOT_NICED,
      ...env,
    };
    const child =
      component === 'raw-worker'
        ? spawnManaged({
            name,
            command: process.execPath,
            args: [path.join(__dirname, 'raw-worker-main.js')],
            env: childEnv,
          })
        : spawnTxflow({ name, component, env: childEnv });
    this.children.push(child);
    return child;
  }

  /** The mock downstream, no latency and no faults until told. */
  async startMock(): Promise<void> {
    const mock = await this.spawnMock('mock');
    this.mockPort = Number(new URL(mock.url).port);
    this.mockProcess = mock.process;
  }

  /** The PID of the mock startMock started (the downstream of every txflow side). */
  get mockPid(): number | undefined {
    return this.mockProcess?.pid;
  }

  /** Another mock downstream of its own (a side of the peer comparison), stopped with the rest or by the caller. */
  async spawnMock(name: string): Promise<{ url: string; process: ManagedProcess }> {
    const port = await freePort();
    const proc = this.spawn(name, 'mock', { PORT: String(port), MOCK_SEED: '1', LOG_LEVEL: 'warn' });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttpOk(`${url}/health`, { timeoutMs: 30_000, process: proc });
    return { url, process: proc };
  }

  async startApi(taskQueue: string, env: Env = {}): Promise<RunningApi> {
    const port = await freePort();
    const proc = this.spawn(`api-${taskQueue}`, 'api', {
      PORT: String(port),
      TASK_QUEUE: taskQueue,
      ...API_POLICY_ENV,
      ...env,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttpOk(`${url}/api/health`, { timeoutMs: 60_000 });
    return { url, process: proc };
  }

  /** The end-to-end steps' API and worker as one all-in-one process (eager workflow start on, its default). */
  async startAllInOne(taskQueue: string, workerEnv: Env): Promise<RunningApi> {
    const port = await freePort();
    const proc = this.spawn(`all-in-one-${taskQueue}`, 'all-in-one', {
      PORT: String(port),
      TASK_QUEUE: taskQueue,
      ...oneMachineWorkerEnv(process.env, { niced: false, allInOne: true }),
      ...workerEnv,
      ...API_POLICY_ENV, // so that both modes run the same transactions
    });
    const url = `http://127.0.0.1:${port}`;
    // It listens only once its worker runs.
    await waitForHttpOk(`${url}/api/health`, { timeoutMs: 120_000, process: proc });
    return { url, process: proc };
  }

  /** txflow's worker (or the raw one), polling once this resolves. */
  async startWorker(
    kind: 'worker' | 'raw-worker',
    taskQueue: string,
    env: Env = {},
  ): Promise<ManagedProcess> {
    // info: its ready line; it logs nothing per transaction at info.
    // Niced only beside the rig's own dev server, as npm start does (not with --temporal).
    const slots = kind === 'worker' ? oneMachineWorkerEnv(process.env, { niced: this.ownServer }) : {};
    const worker = this.spawn(kind, kind, { TASK_QUEUE: taskQueue, ...slots, ...env, LOG_LEVEL: 'info' });
    await worker.waitForLine(isWorkerRunningLine, 120_000);
    return worker;
  }

  async setMockFaults(faults: Record<string, unknown>, mockUrl = this.mockUrl): Promise<void> {
    await request(`${mockUrl}/admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
      dispatcher: this.http,
    }).then((r) => r.body.dump());
  }

  async mockStats(mockUrl = this.mockUrl): Promise<MockStats> {
    const res = await request(`${mockUrl}/admin/stats`, { dispatcher: this.http });
    return (await res.body.json()) as MockStats;
  }

  /** An API's workflow starts so far, by whether the server started them eagerly (its /metrics). */
  async workflowStarts(base: string): Promise<{ eager: number; notEager: number }> {
    const text = await (await request(`${base}/metrics`, { dispatcher: this.http })).body.text();
    const count = (eager: string) =>
      Number(
        new RegExp(`^txflow_api_workflow_starts_total\\{eager="${eager}"\\} (\\d+)$`, 'm').exec(text)?.[1] ??
          Number.NaN,
      );
    return { eager: count('true'), notEager: count('false') };
  }

  /**
   * CPU seconds so far of the dev server, this process (the load: the raw client or the HTTP client) and the
   * given processes: where each side's CPU per call goes, on a machine where they all share the cores.
   */
  cpuOf(others: Record<string, number | undefined>): CpuMeter {
    const pids = { server: this.server.process?.pid, ...others };
    return async () => {
      const out: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const stats = pid === undefined ? undefined : await processStats(pid);
        if (stats) out[name] = stats.cpuSeconds;
      }
      const own = process.cpuUsage();
      out.load = (own.user + own.system) / 1e6;
      return out;
    };
  }

  /** Starts one of the raw baseline's two-activity workflows (tools/bench/workflows) on `taskQueue`. */
  async startRaw(taskQueue: string, workflowId: string): Promise<void> {
    await this.client.workflow.start('twoActivities', { taskQueue, workflowId });
  }

  /** POSTs the bench's transaction `id` to an API; throws unless it answers `expected`. */
  async submit(base: string, id: string, expected: number | number[]): Promise<void> {
    const res = await request(`${base}/api/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(transactionBody(id)),
      dispatcher: this.http,
    });
    await res.body.dump();
    if (![expected].flat().includes(res.statusCode)) throw new Error(`${id}: ${res.statusCode}`);
  }

  /** Starts `count` workflows with 64 callers and waits until visibility shows them completed. */
  async completeAll(
    taskQueue: string,
    type: string,
    count: number,
    start: (i: number) => Promise<void>,
    alreadyCompleted = 0,
  ): Promise<{ workflows: number; seconds: number; perSecond: number }> {
    const t0 = Date.now();
    const starts = await closedLoop(64, count, start);
    if (starts.errors > 0) throw new Error(`${starts.errors} starts failed`);
    await this.awaitCompleted(taskQueue, type, alreadyCompleted + count);
    const seconds = (Date.now() - t0) / 1000;
    return { workflows: count, seconds, perSecond: count / seconds };
  }

  /** Waits until visibility shows `total` workflows of `type` completed on `taskQueue`. */
  async awaitCompleted(taskQueue: string, type: string, total: number): Promise<void> {
    const deadline = Date.now() + 600_000;
    for (;;) {
      const done = await this.completedCount(taskQueue, type);
      if (done >= total) return;
      if (Date.now() > deadline)
        throw new Error(`only ${done} of ${total} ${type} completed on ${taskQueue}`);
      await sleep(100);
    }
  }

  /** How many workflows of `type` visibility shows completed on `taskQueue`. */
  async completedCount(taskQueue: string, type: string): Promise<number> {
    const query = `TaskQueue = "${taskQueue}" AND WorkflowType = "${type}" AND ExecutionStatus = "Completed"`;
    return (await this.client.workflow.count(query)).count;
  }

  /** Stops every process started (last first), the clients, the server, and removes the temp dir. */
  async stop(): Promise<void> {
    for (const child of this.children.reverse()) await child.stop(10_000);
    await this.http.close();
    await this.connection.close();
    await this.server.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** The bench's transaction, as a client of /api/transactions sends it. */
export function transactionBody(id: string) {
  return { id, amount: '10.00', currency: 'EUR', source_account: 'acc_a', destination_account: 'acc_b' };
}
