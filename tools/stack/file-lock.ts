import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A lock older than this is taken over even if its pid looks alive (pids get reused). */
const STALE_AFTER_MS = 2 * 60 * 60 * 1000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const pid = Number.parseInt(text.trim(), 10);
    if (Date.now() - info.mtimeMs > STALE_AFTER_MS) return true;
    // A lock file without a pid yet may be mid-write: stale only once it's old.
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 60_000;
    return !pidAlive(pid);
  } catch (err) {
    // Gone between our open and read: the holder released it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Takes an exclusive lock file holding our pid, waiting while another live process holds it. A lock
 * left by a killed process is taken over. Resolves a release function.
 */
export async function acquireFileLock(
  lockPath: string,
  onWait?: (holder: string) => void,
): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await unlink(lockPath).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    const holder = await readFile(lockPath, 'utf8').catch(() => '?');
    onWait?.(`pid ${holder.trim()}`);
    await sleep(1_000);
  }
}
