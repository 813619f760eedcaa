// The Temporal server of the local cluster: one process per service (frontend, history, matching, worker)
// from one config file, so a single service can be killed and started again; or all four in one process
// (CLUSTER_SERVER_MODE=single). Each process's output goes to its own log file.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortFree } from '../shared/ports';
import { type ManagedProcess, spawnManaged } from '../shared/processes';
import { type PortLayout, TEMPORAL_SERVICES, type TemporalService } from './ports';
import { SERVER_CONFIG_ENV } from './server-config';

/** A process name: `temporal-history`, or `temporal` for all four services in one. */
export type ServerRole = `temporal-${TemporalService}` | 'temporal';

export interface TemporalServerOptions {
  serverPath: string;
  /** Holds config/<env>.yaml; the log files go here too. */
  dir: string;
  mode: 'services' | 'single';
  ports: PortLayout;
  /** Called for every process started (restarts too), e.g. to supervise it. */
  onStart?: (role: ServerRole, process: ManagedProcess) => void;
}

export class TemporalServer {
  private readonly processes = new Map<ServerRole, ManagedProcess>();

  constructor(private readonly options: TemporalServerOptions) {}

  /** The frontend's gRPC address, for clients. */
  get address(): string {
    return `127.0.0.1:${this.options.ports.services.frontend.grpc}`;
  }

  /** The processes this mode runs, in start order. */
  get roles(): ServerRole[] {
    if (this.options.mode === 'single') return ['temporal'];
    // History first: the others ask it for shards as soon as they are up.
    return ['temporal-history', 'temporal-matching', 'temporal-frontend', 'temporal-worker'];
  }

  /** The role that runs `service`: its own process, or the one process of single mode. */
  roleOf(service: TemporalService): ServerRole {
    return this.options.mode === 'single' ? 'temporal' : `temporal-${service}`;
  }

  process(role: ServerRole): ManagedProcess | undefined {
    const p = this.processes.get(role);
    return p?.running ? p : undefined;
  }

  running(): ManagedProcess[] {
    return [...this.processes.values()].filter((p) => p.running);
  }

  /**
   * Starts every process, the first alone until its gRPC port listens: on a new database each process
   * would otherwise race to write the cluster metadata, and the losers exit ("version mismatch").
   * Does not wait for the others to serve: see waitForClusterHealth.
   */
  async startAll(timeoutMs = 120_000): Promise<void> {
    const [first, ...rest] = this.roles;
    if (!first) return;
    const proc = this.spawn(first);
    const port = this.options.ports.services[first === 'temporal' ? 'frontend' : this.serviceOf(first)].grpc;
    const deadline = Date.now() + timeoutMs;
    while (await isPortFree(port)) {
      if (proc.exitInfo) throw proc.exitedError(proc.exitInfo, `listening on port ${port}`);
      if (Date.now() >= deadline)
        throw new Error(`${first} did not listen on port ${port} within ${timeoutMs / 1000} s`);
      await sleep(250);
    }
    for (const role of rest) this.spawn(role);
  }

  private serviceOf(role: Exclude<ServerRole, 'temporal'>): TemporalService {
    return role.slice('temporal-'.length) as TemporalService;
  }

  /** Starts `role` again after it ended (kill -9 in a test), once its ports are free. */
  async restart(role: ServerRole): Promise<ManagedProcess> {
    const old = this.processes.get(role);
    if (old?.running) throw new Error(`${role} is still running`);
    const services =
      role === 'temporal' ? TEMPORAL_SERVICES : [role.slice('temporal-'.length) as TemporalService];
    const ports = services.flatMap((s) => [
      this.options.ports.services[s].grpc,
      this.options.ports.services[s].membership,
    ]);
    for (let i = 0; i < 80; i++) {
      const free = await Promise.all(ports.map((p) => isPortFree(p)));
      if (free.every(Boolean)) break;
      await sleep(250);
    }
    return this.spawn(role);
  }

  /** SIGTERM to each (reverse start order), SIGKILL after the grace. */
  async stop(graceMs = 15_000): Promise<void> {
    for (const role of [...this.roles].reverse()) await this.processes.get(role)?.stop(graceMs);
  }

  private spawn(role: ServerRole): ManagedProcess {
    const { dir, serverPath } = this.options;
    const services = role === 'temporal' ? [...TEMPORAL_SERVICES] : [this.serviceOf(role)];
    const args = [
      '--root',
      dir,
      '--config',
      'config',
      '--env',
      SERVER_CONFIG_ENV,
      '--allow-no-auth',
      'start',
    ];
    for (const s of services) args.push('--service', s);
    const proc = spawnManaged({
      name: role,
      command: serverPath,
      args,
      logFile: join(dir, `${role}.log`),
      // Own group: a terminal's Ctrl-C reaches only `npm run cluster`, which stops the processes in order.
      detached: true,
      tailLines: 40,
    });
    this.processes.set(role, proc);
    this.options.onStart?.(role, proc);
    return proc;
  }
}
