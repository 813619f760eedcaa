import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** True when `path` is a regular file we may execute. */
export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` in PATH, then in `extraDirs`; undefined when there is none. */
export async function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  extraDirs: string[] = [],
): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((dir) => dir !== ''), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
