import { setTimeout as sleep } from 'node:timers/promises';

/** Retries an assertion until it passes or the time is up; the last failure is what the test reports. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(everyMs);
    }
  }
}
