// `npm start` turns callbacks on, so that `callback_url` can be tried at once: a signing secret kept in the data
// folder (the same across restarts, so a receiver's verification keeps working) and plain http allowed to
// loopback receivers. Set CALLBACK_SIGNING_SECRET (and CALLBACK_ALLOWED_HOSTS) to use your own.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEV_SECRET_FILE = 'callback-secret';
const LOOPBACK_HOSTS = '127.0.0.1,localhost';

export interface DevCallbacks {
  /** What the API and the worker get on top of the caller's environment. */
  env: Record<string, string>;
  /** One line for the stack's banner. */
  note: string;
}

export async function devCallbacks(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DevCallbacks> {
  if (env.CALLBACK_SIGNING_SECRET)
    return { env: {}, note: 'on (CALLBACK_SIGNING_SECRET from the environment)' };
  const file = join(dataDir, DEV_SECRET_FILE);
  const secret = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    async () => {
      const made = randomBytes(32).toString('hex');
      await writeFile(file, `${made}\n`, { mode: 0o600 });
      return made;
    },
  );
  const allowedHosts = env.CALLBACK_ALLOWED_HOSTS ?? LOOPBACK_HOSTS;
  return {
    env: { CALLBACK_SIGNING_SECRET: secret, CALLBACK_ALLOWED_HOSTS: allowedHosts },
    note: `on (signing secret in ${file}; http allowed to ${allowedHosts})`,
  };
}
