import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { CrashWindow, type RestartPolicy } from './crash-loop';
import { formatLogLine } from './log-format';
import { describeExit, liveProcesses, type ManagedProcess } from '../shared/processes';

export interface Supervised {
  name: string;
  /** Its current process (a restarted component gets a new one). */
  process: ManagedProcess;
  /** SIGTERM grace before SIGKILL when stopping it. */
  graceMs: number;
  /** Its output is not on screen (it goes to a log file): show its last lines when it dies. */
  showTailOnDeath?: boolean;
}

/** How a restartable component is started again, and what to do with its restart count. */
export interface RestartOptions {
  /** Starts a new process for the component. */
  start: () => ManagedProcess;
  policy: RestartPolicy;
  /** Called with the component's restart count each time a new process is started. */
  onRestart?: (restarts: number) => void;
}

/**
 * Keeps a set of long-running children for a foreground command (`npm start`, `npm run cluster`): stops
 * them in reverse start order on Ctrl-C/SIGTERM/SIGHUP (a second signal kills at once), and stops
 * everything, exiting 1, when one of them dies on its own, unless it is supervised as restartable.
 */
export class Supervisor {
  private readonly started: Supervised[] = [];
  private stopping = false;

  constructor(
    private readonly log: Logger,
    /** What the children make up, for messages: "the stack", "the cluster". */
    private readonly what: string,
    private readonly print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Installs the signal handlers; call once, before starting anything. */
  handleSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (!this.stopping) {
          this.log.info({ signal }, `stopping ${this.what} (send again to kill at once)`);
          void this.shutdown(0);
          return;
        }
        for (const p of liveProcesses()) p.kill('SIGKILL');
        process.exit(130);
      });
    }
  }

  /** Watches `c`: if it ends while we are not stopping, everything stops and we exit 1. */
  supervise(c: Supervised): void {
    this.started.push(c);
    void c.process.exited.then((info) => {
      if (this.stopping) return;
      this.log.error(
        { component: c.name, code: info.code, signal: info.signal },
        `${c.name} ${describeExit(info)} unexpectedly`,
      );
      const tail = c.showTailOnDeath ? c.process.tail() : '';
      if (tail) {
        this.print(
          tail
            .split('\n')
            .map((line) => formatLogLine(c.name, line))
            .join('\n'),
        );
      }
      this.log.error(`stopping everything because ${c.name} died`);
      void this.shutdown(1);
    });
  }

  /**
   * Watches `c` and restarts it when it dies on its own, after an exponential backoff; each restart is one
   * log line. Only a crash loop (policy.maxCrashes within policy.windowMs) stops everything, exiting 1 and
   * naming it. Stopping (Ctrl-C, or another component's death) cancels a pending restart.
   */
  superviseRestarting(c: Supervised, options: RestartOptions): void {
    this.started.push(c);
    const { policy } = options;
    const crashes = new CrashWindow(policy);
    let restarts = 0;
    const watch = (proc: ManagedProcess) => {
      void proc.exited.then(async (info) => {
        if (this.stopping) return;
        const verdict = crashes.crashed(Date.now());
        // `child`, not `component`: that is the stack logger's own field ('stack').
        const fields = { child: c.name, code: info.code, signal: info.signal };
        if (verdict.giveUp) {
          this.log.error(
            { ...fields, crashes: verdict.crashesInWindow, window_ms: policy.windowMs },
            `${c.name} ${describeExit(info)}: it crashed ${verdict.crashesInWindow} times within ` +
              `${policy.windowMs / 1000} s, a crash loop; stopping everything because ${c.name} keeps dying`,
          );
          void this.shutdown(1);
          return;
        }
        this.log.warn(
          { ...fields, restart: restarts + 1, backoff_ms: verdict.backoffMs },
          `${c.name} ${describeExit(info)}: restarting it in ${verdict.backoffMs} ms`,
        );
        await sleep(verdict.backoffMs);
        if (this.stopping) return;
        c.process = options.start();
        restarts++;
        options.onRestart?.(restarts);
        watch(c.process);
      });
    };
    watch(c.process);
  }

  /** Stops in reverse start order, then anything still starting. */
  async stopAll(): Promise<void> {
    for (const c of [...this.started].reverse()) {
      if (!c.process.running) continue;
      this.log.info(`stopping ${c.name}`);
      const info = await c.process.stop(c.graceMs);
      this.log.info(`${c.name} stopped (${describeExit(info)})`);
    }
    await Promise.all(liveProcesses().map((p) => p.stop(10_000)));
  }

  /**
   * A foreground command's body under a Supervisor with its signal handlers: if `body` fails before anything
   * stopped, the error is logged and everything stops, exiting 1.
   */
  static async run(
    log: Logger,
    what: string,
    print: (line: string) => void,
    body: (supervisor: Supervisor) => Promise<void>,
  ): Promise<void> {
    const supervisor = new Supervisor(log, what, print);
    supervisor.handleSignals();
    try {
      await body(supervisor);
    } catch (err) {
      if (supervisor.isStopping) return;
      log.error((err as Error).message);
      await supervisor.shutdown(1);
    }
  }

  /** Stops everything once and exits with `exitCode`. */
  async shutdown(exitCode: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.stopAll();
    this.log.info(`${this.what} stopped`);
    process.exit(exitCode);
  }
}
