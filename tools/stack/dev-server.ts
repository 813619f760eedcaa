import { Connection } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../src/config/logger';
import { searchAttributeFlags } from '../../src/domain/search-attributes';
import { assertPortsFree, type PortNeed } from '../shared/ports';
import { type LineListener, type ManagedProcess, spawnManaged } from '../shared/processes';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file that keeps state across restarts; omit for an in-memory server. */
  dbFile?: string;
  /** Frontend gRPC port. */
  port: number;
  /** Web UI port; false or omitted runs headless. */
  uiPort?: number | false;
  namespace: string;
  /** The server's own output is appended here (it is also kept in memory for error messages). */
  logFile?: string;
  log: Logger;
  ip?: string;
  /** How long the server gets to answer; a loaded CI machine can take a while. Default 120 s. */
  readyTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
  /** Own process group, so a terminal's Ctrl-C doesn't stop it before the processes that use it. */
  detached?: boolean;
  onLine?: LineListener;
  /** More `start-dev` flags, e.g. `--dynamic-config-value KEY=VALUE` for a benchmark lever. */
  extraArgs?: string[];
  /** Only these CPUs (by index) run the server, via taskset: a benchmark keeps its clients off them. */
  cpus?: readonly number[];
}

export interface DevServer {
  /** host:port for Temporal clients. */
  address: string;
  /** Undefined when headless. */
  uiUrl: string | undefined;
  stop(): Promise<void>;
  process: ManagedProcess;
}

/** The `temporal server start-dev` arguments for `options`. */
export function devServerArgs(options: Omit<DevServerOptions, 'cliPath' | 'log'>): string[] {
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port)];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  args.push('--namespace', options.namespace, '--log-level', 'warn');
  if (options.dbFile) {
    // WAL with synchronous=normal: ~130 workflow starts/s against ~60 with SQLite's defaults.
    args.push('--db-filename', options.dbFile);
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  // Registered at start: a workflow that sets an unknown attribute fails its task forever.
  for (const flag of searchAttributeFlags()) args.push('--search-attribute', flag);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Names of the search attributes devServerArgs registers. */
function expectedSearchAttributes(): string[] {
  return searchAttributeFlags().map((flag) => flag.split('=')[0] ?? flag);
}

/**
 * Polls until the server answers, has `namespace` and lists every txflow search attribute (the CLI
 * registers them just after its frontend comes up). Fails early, with its output, if it exits.
 */
export async function waitForTemporal(
  address: string,
  namespace: string,
  options: {
    timeoutMs?: number;
    process?: ManagedProcess;
    searchAttributes?: string[];
    /** TLS and API key for a secured cluster (see temporalConnectionOptions). */
    connection?: { tls?: object | false; apiKey?: string };
  } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const wanted = options.searchAttributes ?? [];
  const deadline = Date.now() + timeoutMs;
  const proc = options.process;
  // Settles only if the process ends: raced with each attempt so an early exit is reported at once.
  const exited = proc
    ? proc.exited.then((info) => Promise.reject(proc.exitedError(info, `answering on ${address}`)))
    : new Promise<never>(() => undefined);
  exited.catch(() => undefined);
  // No retry interceptor: this loop is the retry, and a retry timer still pending when we close the
  // connection would throw "Channel has been shut down" as an uncaught exception (SDK 1.24 behaviour).
  const connection = Connection.lazy({ ...options.connection, address, interceptors: [] });
  let last = 'no answer yet';
  try {
    for (;;) {
      try {
        const missing = await Promise.race([
          exited,
          connection.withDeadline(Date.now() + 3_000, async () => {
            await connection.workflowService.getSystemInfo({});
            await connection.workflowService.describeNamespace({ namespace });
            const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
            return wanted.filter((name) => !(customAttributes && name in customAttributes));
          }),
        ]);
        if (missing.length === 0) return;
        last = `search attributes not registered yet: ${missing.join(', ')}`;
      } catch (err) {
        if (proc?.exitInfo) throw proc.exitedError(proc.exitInfo, `answering on ${address}`);
        last = (err as Error).message;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `Temporal at ${address} was not ready within ${Math.round(timeoutMs / 1000)} s (last: ${last})` +
            (proc ? `\nLast output of ${proc.name}:\n${proc.tail()}` : ''),
        );
      }
      await Promise.race([exited, sleep(250)]);
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Starts `temporal server start-dev` and resolves once it really serves `namespace`. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const needs: PortNeed[] = [{ port: options.port, host: ip, purpose: 'Temporal dev server gRPC' }];
  if (options.uiPort) needs.push({ port: options.uiPort, host: ip, purpose: 'Temporal Web UI' });
  await assertPortsFree(needs);

  const args = devServerArgs(options);
  const address = `${ip}:${options.port}`;
  options.log.debug({ cli: options.cliPath, args }, 'starting temporal dev server');
  // taskset execs the CLI, so the process we manage (and signal) is still the server itself.
  const pinned = options.cpus?.length ? ['-c', options.cpus.join(','), options.cliPath] : [];
  const proc = spawnManaged({
    name: 'temporal',
    command: pinned.length > 0 ? 'taskset' : options.cliPath,
    args: [...pinned, ...args],
    logFile: options.logFile,
    detached: options.detached,
    onLine: options.onLine,
  });
  const stop = async () => {
    await proc.stop(options.stopGraceMs ?? 10_000);
  };
  const started = Date.now();
  try {
    await waitForTemporal(address, options.namespace, {
      timeoutMs: options.readyTimeoutMs,
      process: proc,
      searchAttributes: expectedSearchAttributes(),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const uiUrl = options.uiPort ? `http://${ip}:${options.uiPort}` : undefined;
  options.log.debug({ address, uiUrl, pid: proc.pid, ms: Date.now() - started }, 'temporal dev server ready');
  return { address, uiUrl, stop, process: proc };
}
