import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export type OutputStream = 'stdout' | 'stderr';
export type LineListener = (line: string, stream: OutputStream) => void;

export interface SpawnOptions {
  /** Names the process in messages, e.g. 'worker'. */
  name: string;
  command: string;
  args?: string[];
  /** The child's whole environment; defaults to ours. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Gets every output line of stdout and stderr, e.g. to print it prefixed. */
  onLine?: LineListener;
  /** Raw output is appended here too. */
  logFile?: string;
  /**
   * Own process group: a terminal's Ctrl-C then reaches only us, so we choose the stop order, and
   * stop() signals the whole group so nothing it started is left behind.
   */
  detached?: boolean;
  /** How many output lines to keep for error messages (default 60). */
  tailLines?: number;
}

/** The process ended while we were waiting for it to get ready; the message holds its last output. */
export class ProcessExitedError extends Error {
  override name = 'ProcessExitedError';
}

export function describeExit(info: ExitInfo): string {
  if (info.error) return `could not start: ${info.error.message}`;
  if (info.signal) return `was killed by ${info.signal}`;
  return `exited with code ${info.code}`;
}

// One 'exit' hook for all: when this process ends (also via process.exit), nothing it started survives.
const live = new Set<ManagedProcess>();
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

/** Processes started here that are still running, oldest first. */
export function liveProcesses(): ManagedProcess[] {
  return [...live];
}

/** A child process with line-wise output, a tail for error messages, and a graceful stop. */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves (never rejects) once the process has ended and its output is drained. */
  readonly exited: Promise<ExitInfo>;
  private readonly detached: boolean;
  private readonly listeners = new Set<LineListener>();
  private readonly lines: string[] = [];
  private readonly tailLines: number;
  private info: ExitInfo | undefined;
  private logStream: WriteStream | undefined;

  constructor(options: SpawnOptions) {
    this.name = options.name;
    this.detached = options.detached ?? false;
    this.tailLines = options.tailLines ?? 60;
    if (options.onLine) this.listeners.add(options.onLine);
    if (options.logFile) this.logStream = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(options.command, options.args ?? [], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: this.detached,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.info) return;
        this.info = info;
        live.delete(this);
        this.logStream?.end();
        resolve(info);
      };
      this.child.once('error', (error) => {
        // A spawn failure emits no 'close' when there was never a process.
        if (this.child.pid === undefined) done({ code: null, signal: null, error });
      });
      this.child.once('close', (code, signal) => done({ code, signal }));
    });
    if (this.child.stdout) this.readLines(this.child.stdout, 'stdout');
    if (this.child.stderr) this.readLines(this.child.stderr, 'stderr');
  }

  private readLines(input: NodeJS.ReadableStream, stream: OutputStream): void {
    createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
      this.lines.push(line);
      if (this.lines.length > this.tailLines) this.lines.shift();
      this.logStream?.write(`${line}\n`);
      for (const listener of this.listeners) listener(line, stream);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Undefined while it runs. */
  get exitInfo(): ExitInfo | undefined {
    return this.info;
  }

  get running(): boolean {
    return this.info === undefined && this.child.pid !== undefined;
  }

  /** The last output lines, for error messages. */
  tail(): string {
    return this.lines.join('\n');
  }

  onLine(listener: LineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends `signal` to the process (to its whole group when detached); no-op once it ended. */
  kill(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (!this.running || pid === undefined) return;
    try {
      if (this.detached) process.kill(-pid, signal);
      else this.child.kill(signal);
    } catch {
      // Already gone between our check and the signal.
    }
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves how it ended. */
  async stop(graceMs = 10_000): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A ProcessExitedError for "ended before it was ready", with its last output. */
  exitedError(info: ExitInfo, waitingFor: string): ProcessExitedError {
    const tail = this.tail();
    return new ProcessExitedError(
      `${this.name} ${describeExit(info)} before ${waitingFor}.` +
        (tail ? `\nLast output of ${this.name}:\n${tail}` : ` It printed nothing.`),
    );
  }

  /** Resolves the first output line (seen already or yet to come) that matches. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number, what = 'its ready line'): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const cleanup = () => {
        unsubscribe();
        clearTimeout(timer);
      };
      const unsubscribe = this.onLine((line) => {
        if (!match(line)) return;
        cleanup();
        resolve(line);
      });
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not print ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      void this.exited.then((info) => {
        cleanup();
        reject(this.exitedError(info, `printing ${what}`));
      });
    });
  }
}

export function spawnManaged(options: SpawnOptions): ManagedProcess {
  return new ManagedProcess(options);
}

export interface WaitForHttpOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Stop waiting (with its output) when this process ends first. */
  process?: ManagedProcess;
}

/** Polls `url` until it answers 200. */
export async function waitForHttpOk(url: string, options: WaitForHttpOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const info = options.process?.exitInfo;
    if (info && options.process) throw options.process.exitedError(info, `${url} answered 200`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`${url} did not answer 200 within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
