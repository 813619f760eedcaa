import { readFile, rename, writeFile } from 'node:fs/promises';

/**
 * How many times `npm start` restarted each component (worker, api, all-in-one), shared through a small JSON
 * file: the stack writes it (whole, then renamed into place, so a reader never sees half of it), the API
 * reads it for its health. A file, not an env var (fixed when the API starts, while the worker's count goes
 * on) nor an endpoint (one more port to hold): it outlives the API's own restarts and costs nothing.
 */
export type RestartCounts = Record<string, number>;

/** The variable through which the stack tells the API (and the all-in-one process) where the file is. */
export const RESTARTS_FILE_ENV = 'TXFLOW_RESTARTS_FILE';

export async function writeRestartCounts(path: string, counts: RestartCounts): Promise<void> {
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(counts)}\n`);
  await rename(partial, path);
}

/** The counts, or null when the file is missing or not what the stack writes. */
export async function readRestartCounts(path: string): Promise<RestartCounts | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    const entries = Object.entries(parsed);
    return entries.every(([, n]) => Number.isInteger(n) && (n as number) >= 0)
      ? (Object.fromEntries(entries) as RestartCounts)
      : null;
  } catch {
    return null;
  }
}
