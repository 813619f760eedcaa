// Waits for `temporal operator cluster health` to say SERVING: the frontend is up and reaches its peers.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from '../shared/processes';
import { runCommand } from '../stack/run-command';

export interface HealthOptions {
  cliPath: string;
  address: string;
  timeoutMs?: number;
  /** Stop waiting, with its output, when one of these ends. */
  processes?: ManagedProcess[];
}

export async function waitForClusterHealth(options: HealthOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    for (const p of options.processes ?? []) {
      if (p.exitInfo) throw p.exitedError(p.exitInfo, `the cluster at ${options.address} was healthy`);
    }
    try {
      const { stdout } = await runCommand(
        options.cliPath,
        ['operator', 'cluster', 'health', '--address', options.address, '--command-timeout', '3s'],
        { timeoutMs: 10_000 },
      );
      if (/SERVING/.test(stdout) && !/NOT_SERVING/.test(stdout)) return;
      last = stdout.trim();
    } catch (err) {
      last = (err as Error).message.split('\n').slice(-1)[0] ?? String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Temporal at ${options.address} was not healthy within ${Math.round(timeoutMs / 1000)} s (last: ${last})`,
      );
    }
    await sleep(1_000);
  }
}
